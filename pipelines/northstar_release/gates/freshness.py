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

from northstar_release import gitutil
from northstar_release.adapters.warehouse import ENTRY_POINT, WarehouseAdapter
from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult

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


class FreshnessGate:
    name = "freshness"
    description = ("bronze tables upstream of the models the release changes arrived within their catalog SLA "
                   "(schedule interval + batch_minutes, or freshness_seconds)")

    kind = ArtifactKind.WAREHOUSE_PROJECT
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        artifacts = [a for a in ctx.release.artifacts if a.kind == self.kind]
        if not artifacts:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no warehouse project")]
        adapter = ctx.adapters.get(self.kind)
        repo = ctx.repo
        if not isinstance(adapter, WarehouseAdapter) or repo is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary="freshness cannot run: no warehouse adapter or no git repository here")]
        results = []
        for artifact in artifacts:
            target = f"{artifact.name}@{artifact.sha256[:12]}"
            with tempfile.TemporaryDirectory(prefix="freshness-catalog-") as tmp:
                if write_catalog(repo, ctx.release.git_commit, Path(tmp)) == 0:
                    results.append(GateResult(gate=self.name, target=target, outcome=GateOutcome.FAILED,
                                              summary=f"no pipeline catalog ({CATALOG}/*.yaml) in commit "
                                                      f"{ctx.release.git_commit[:12]}: no SLA to check against"))
                    continue
                folder = adapter.ensure_extracted(artifact, ctx.env)
                warehouse, state = adapter.warehouse_paths(ctx.env)
                res = ctx.env.runner.run(ENTRY_POINT, [
                    "freshness", "--project", str(folder), "--warehouse", str(warehouse), "--state", str(state),
                    "--env", ctx.env.env, "--catalog", tmp])
            p = dict(res.payload)
            ok = res.exit_code == 0 and bool(p.get("ok"))
            tables = p.get("tables") or []
            if p.get("error") or "tables" not in p:
                summary = str(p.get("error") or "freshness check failed")
            elif not ok:
                summary = "; ".join(f"{t['table']} ({t['pipeline']}): {t['status']}, last arrival {t['loaded_at']} "
                                    f"({t['age_s']} s ago) > SLA {t['sla']} = {t['max_age_s']} s, feeds "
                                    f"{', '.join(t['feeds'][:5])}" for t in tables
                                    if t["status"] in ("stale", "never_loaded"))
            else:
                summary = (f"{sum(t['status'] == 'fresh' for t in tables)} bronze table(s) feeding "
                           f"{len(p.get('changed_models') or [])} changed model(s) within SLA"
                           + (f"; {sum(t['status'] == 'no_sla' for t in tables)} without a declared SLA"
                              if any(t["status"] == "no_sla" for t in tables) else ""))
            results.append(GateResult(gate=self.name, target=target,
                                      outcome=GateOutcome.PASSED if ok else GateOutcome.FAILED, summary=summary,
                                      evidence={k: p.get(k) for k in ("environment", "checked_at", "tables", "stale",
                                                                      "timings", "error")}))
        return results
