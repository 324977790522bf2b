"""freshness: the bronze tables feeding the models a release changes must have arrived within their catalog SLA.

The SLAs are read from the release's own commit (``pipelines/catalog/pipelines/*.yaml``, handed to the component as a
folder); the warehouse entry point's ``freshness`` subcommand finds the models whose snapshots differ from the env,
walks their lineage up to ``bronze.*`` and compares each table's latest arrival (``northstar_dbt.arrivals``) with
its ingest pipeline's SLA (one schedule interval + ``batch_minutes``, or ``freshness_seconds`` for streams). A
stale or never-loaded table blocks; a bronze table no pipeline declares is reported, not blocking. The verdict
depends on the env and on the clock, so it always runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from northstar_contracts.warehouse import WarehouseFreshnessReport
from northstar_release import gitutil
from northstar_release.adapters.warehouse import ENTRY_POINT
from northstar_release.gates.base import GateContext
from northstar_release.gates.warehouse_input import warehouse_input
from northstar_release.model import ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call

CATALOG = "pipelines/catalog/pipelines"


def write_catalog(repo: Path, commit: str, dest: Path) -> int:
    """Copy the catalog's pipeline files at ``commit`` into ``dest/pipelines``; returns how many."""
    out = dest / "pipelines"
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for path, oid in gitutil.list_tree(repo, commit, CATALOG):
        if path.endswith(".yaml") and "/" not in path[len(CATALOG) + 1:]:
            (out / Path(path).name).write_bytes(gitutil.read_blob(repo, oid))
            n += 1
    return n


def summarize(report: WarehouseFreshnessReport) -> str:
    """One line: each stale or never-loaded table with its SLA and what it feeds, else what was checked."""
    if report.error:
        return report.error
    late = [t for t in report.tables if t.status in ("stale", "never_loaded")]
    if not report.ok and late:
        return "; ".join(f"{t.table} ({t.pipeline}): {t.status}, last arrival {t.loaded_at} ({t.age_s} s ago) > "
                         f"SLA {t.sla} = {t.max_age_s} s, feeds {', '.join(t.feeds[:5])}" for t in late)
    if not report.ok:
        return "freshness check failed"
    no_sla = sum(t.status == "no_sla" for t in report.tables)
    return (f"{sum(t.status == 'fresh' for t in report.tables)} bronze table(s) feeding "
            f"{len(report.changed_models)} changed model(s) within SLA"
            + (f"; {no_sla} without a declared SLA" if no_sla else ""))


class FreshnessGate:
    name = "freshness"
    description = ("bronze tables upstream of the models the release changes arrived within their catalog SLA "
                   "(schedule interval + batch_minutes, or freshness_seconds)")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        got = warehouse_input(ctx, self.name, "the freshness check")
        if isinstance(got, list):
            return got
        repo = ctx.repo
        if repo is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary="freshness cannot run: no git repository holds the release's commit here")]
        results = []
        for artifact in got.artifacts:
            target = f"{artifact.name}@{artifact.sha256[:12]}"
            with tempfile.TemporaryDirectory(prefix="freshness-catalog-") as tmp:
                if write_catalog(repo, ctx.release.git_commit, Path(tmp)) == 0:
                    results.append(GateResult(gate=self.name, target=target, outcome=GateOutcome.FAILED,
                                              summary=f"no pipeline catalog ({CATALOG}/*.yaml) in commit "
                                                      f"{ctx.release.git_commit[:12]}: no SLA to check against"))
                    continue
                folder = got.adapter.ensure_extracted(artifact, ctx.env)
                warehouse, state = got.adapter.warehouse_paths(ctx.env)
                reported = call(ctx.env.runner, ENTRY_POINT, [
                    "freshness", "--project", str(folder), "--warehouse", str(warehouse), "--state", str(state),
                    "--env", ctx.env.env, "--catalog", tmp], WarehouseFreshnessReport, subcommand="freshness")
            report = reported.result
            ok = reported.exit_code == 0 and report is not None and report.ok
            data = report.to_dict() if report is not None else {"error": reported.error}
            results.append(GateResult(
                gate=self.name, target=target, outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED,
                summary=summarize(report) if report is not None else str(reported.error),
                evidence={k: data.get(k) for k in ("environment", "checked_at", "tables", "stale", "timings",
                                                   "error")}))
        return results
