"""The change planner behind ``./release plan [--since REF]``: which release units a change touches, what it reaches
downstream, and which gates and approvals it will need.

Two sources, one answer:
- dbt/catalog lineage (``northstar_release.impact``, the same ``northstar_lineage`` package the Pants plugin infers
  dependencies with), read in-process from the commit: per changed file, the models, tests, DAGs, Spark jobs and topics
  it reaches and the policy tags on that path (``finance`` -> ``finance_approvers_required`` in prod);
- Pants, when the repository has ``./pants``: "changed-since REF with transitive dependents" adds what only Pants knows
  (Python imports, lockfiles, BUILD dependencies), and ``peek`` gives each target's type and BUILD tags. The Pants call
  is injectable so unit tests feed captured JSON instead of running Pants.

Approvals come from ``policy.approvals_for_tags`` -- the function promote/approve use with the built release's tags,
and ``build`` tags the release with these same tags (``release_tags``), so plan shows what promote will enforce.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from northstar_lineage.graph import Lineage
from northstar_release.errors import UsageError
from northstar_release.impact import POLICY_TAGS, ChangeImpact, all_policy_tags, impact_of, lineage_at
from northstar_release.kinds.registry import KINDS, KindRegistry
from northstar_release.model import ArtifactKind, Environment
from northstar_release.policy import FINANCE_TAG, approvals_for_tags


class PantsQuery(Protocol):
    def changed_targets(self, since: str) -> list[str]: ...

    def peek(self, addresses: list[str]) -> list[dict[str, Any]]: ...

    def targets_tagged(self, tag: str) -> list[str]: ...


@dataclass
class SubprocessPants:
    """Runs ``./pants`` in the repo. ``command`` is overridable (e.g. ['pants'])."""

    repo: Path
    command: tuple[str, ...] = ("./pants",)
    timeout_s: float = 900.0

    def _run(self, args: list[str]) -> str:
        try:
            proc = subprocess.run([*self.command, *args], cwd=self.repo, capture_output=True, text=True,
                                  timeout=self.timeout_s)
        except FileNotFoundError as exc:
            raise UsageError(f"cannot run Pants ({' '.join(self.command)}): {exc.strerror}") from exc
        if proc.returncode != 0:
            raise UsageError(f"pants {' '.join(args[:2])} failed (exit {proc.returncode})",
                             [line for line in proc.stderr.strip().splitlines()[-15:]])
        return proc.stdout

    def changed_targets(self, since: str) -> list[str]:
        out = self._run([f"--changed-since={since}", "--changed-dependents=transitive", "list"])
        return [line.strip() for line in out.splitlines() if line.strip()]

    def peek(self, addresses: list[str]) -> list[dict[str, Any]]:
        if not addresses:
            return []
        data = json.loads(self._run(["peek", *addresses]))
        return data if isinstance(data, list) else []

    def targets_tagged(self, tag: str) -> list[str]:
        out = self._run([f"--tag={tag}", "list", "::"])
        return [line.strip() for line in out.splitlines() if line.strip()]


def pants_for(repo: Path) -> SubprocessPants | None:
    """Pants when the repository has it (the monorepo); None elsewhere (lineage alone then decides)."""
    return SubprocessPants(repo) if (repo / "pants").exists() else None


def release_tags(repo: Path, since: str | None, pants: PantsQuery | None, head: str = "HEAD") -> tuple[set[str], str]:
    """Tags a release must carry, so policies (e.g. two approvers for finance) never depend on the builder remembering
    a flag. With ``since`` (the commit live in prod): the policy tags reached by the changes since then -- through
    dbt/catalog lineage (a staging model feeding a finance mart is finance) and, with Pants, the BUILD tags of the
    changed targets and their transitive dependents. Without (nothing in prod yet): the release ships everything, so
    every policy tag anywhere applies. Returns the tags and a one-line explanation for the audit log."""
    how = "dbt/catalog lineage" + (" and Pants" if pants is not None else "")
    if since:
        return set(compute_change_plan(repo, since, pants, head=head).tags), \
            f"policy tags reached by the changes since {since} ({how})"
    tags = all_policy_tags(lineage_at(repo, head))
    if pants is not None:
        tags |= {tag for tag in POLICY_TAGS if pants.targets_tagged(tag)}
    return tags, f"first release to prod: policy tags of every target in the repository ({how})"


def build_tags(repo: Path, since: str | None, prod_commit: str | None, pants: PantsQuery | None,
               head: str = "HEAD") -> tuple[set[str], str]:
    """The policy tags ``build`` gives a release: those reached by the changes since the commit live in prod (every
    policy tag in the repository while prod is empty), plus, with ``since`` (``--since``), those reached by the
    changes since it. ``since`` only ever adds: fewer tags mean fewer approvers, and that must not be the builder's
    choice."""
    tags, why = release_tags(repo, prod_commit, pants, head=head)
    if since and since != prod_commit:
        more, more_why = release_tags(repo, since, pants, head=head)
        tags |= more
        why = f"{why}; plus {more_why} (--since only adds tags)"
    return tags, why


def changed_files(repo: Path, since: str, head: str = "HEAD") -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", f"{since}...{head}"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise UsageError(f"git diff {since}...{head} failed: {proc.stderr.strip()}")
    return [line for line in proc.stdout.splitlines() if line]


CATALOG = "pipelines/catalog/"
SOURCES_YAML = "pipelines/catalog/sources.yaml"
# A resolve's lockfile changes what every component of that resolve runs with.
LOCKFILE_KINDS = {
    "3rdparty/python/spark.lock": ArtifactKind.SPARK_JOB,
    "3rdparty/python/dbt.lock": ArtifactKind.WAREHOUSE_PROJECT,
    "3rdparty/python/airflow.lock": ArtifactKind.DAG_BUNDLE,
    "3rdparty/python/infra.lock": ArtifactKind.INFRA_VERSION_MAP,
}


def kinds_of(address_or_path: str, kinds: KindRegistry = KINDS) -> list[ArtifactKind]:
    """The release kinds a changed path (or target address) feeds.

    The longest KindSpec source root that contains the path wins (``pipelines/catalog/schemas/...`` is an event
    schema, not "something under pipelines/"); a catalog-only change ships in the DAG bundle (it carries the catalog
    the DAGs are generated and checked from), and ``sources.yaml`` -- the source contract the Spark bronze writers
    and the dbt sources are generated from -- also reaches the Spark jobs and the warehouse project; a lockfile
    reaches every component of its resolve."""
    path = address_or_path.split(":", 1)[0].lstrip("/")
    roots = kinds.kind_by_root()
    matching = [r for r in roots if path == r or path.startswith(r.rstrip("/") + "/")]
    if matching:
        return [roots[max(matching, key=len)]]
    if path in LOCKFILE_KINDS:
        return [LOCKFILE_KINDS[path]]
    if path.startswith(CATALOG):
        extra = [ArtifactKind.SPARK_JOB, ArtifactKind.WAREHOUSE_PROJECT] if path == SOURCES_YAML else []
        return [ArtifactKind.DAG_BUNDLE, *extra]
    return []


def _through_spark_jobs(lineage: Lineage, path: str) -> ChangeImpact:
    """A Spark lockfile change as one impact: every Spark job, and everything downstream of any of them (the
    models reading their bronze tables, the DAGs running them), with the policy tags on those paths."""
    jobs = sorted(p for p, n in lineage.nodes.items() if n.kind == "spark_job")
    merged = ChangeImpact(path=path, kind="lockfile")
    for part in impact_of(lineage, jobs):
        merged.absorb(part)
    merged.spark_jobs = sorted(set(merged.spark_jobs) | {lineage.nodes[j].name for j in jobs})
    merged.reached = sorted(set(merged.reached) | set(jobs))
    return merged


@dataclass
class ReleaseUnit:
    kind: ArtifactKind
    targets: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    reached: list[str] = field(default_factory=list)  # files reached downstream through lineage (not changed)


@dataclass
class ChangePlan:
    since: str
    files: list[str]
    units: list[ReleaseUnit]
    approvals: dict[str, int]  # env -> approvers needed
    risk_notes: list[str]
    unmapped: list[str]
    impacts: list[ChangeImpact] = field(default_factory=list)
    env_requirements: dict[str, dict[str, Any]] = field(default_factory=dict)  # env -> approvers, why, gates

    @property
    def tags(self) -> list[str]:
        return sorted({t for u in self.units for t in u.tags} | {t for i in self.impacts for t in i.tags})

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since, "files": self.files, "tags": self.tags, "approvals": self.approvals,
            "risk_notes": self.risk_notes, "unmapped": self.unmapped,
            "units": [{"kind": u.kind.value, "targets": u.targets, "files": u.files, "tags": u.tags,
                       "gates": u.gates, "reached": u.reached} for u in self.units],
            "impact": [i.to_json() for i in self.impacts],
            "environments": self.env_requirements,
        }


def plan_changes(files: list[str], targets: list[dict[str, Any]], since: str,
                 environments: Mapping[str, Environment] | None = None, kinds: KindRegistry = KINDS,
                 impacts: list[ChangeImpact] | None = None) -> ChangePlan:
    """Group changed files, affected targets (peek JSON) and what lineage reaches (``impacts``) into release units;
    derive gates, approvals and risk notes.

    Which folder feeds which kind, and what checks it, comes from each kind's ``KindSpec`` (kinds/registry.py)."""
    units: dict[ArtifactKind, ReleaseUnit] = {}
    unmapped: list[str] = []

    def unit(kind: ArtifactKind) -> ReleaseUnit:
        if kind not in units:
            spec = kinds.get(kind)
            units[kind] = ReleaseUnit(kind=kind, gates=list(spec.gates) if spec and spec.gates else
                                      [spec.label if spec else f"{kind.value}: no KindSpec"])
        return units[kind]

    for f in files:
        found = kinds_of(f, kinds)
        if not found:
            unmapped.append(f)
        for kind in found:
            unit(kind).files.append(f)
    for t in targets:
        address = str(t.get("address", ""))
        for kind in kinds_of(address, kinds)[:1]:
            u = unit(kind)
            u.targets.append(address)
            for tag in t.get("tags") or []:
                if tag not in u.tags:
                    u.tags.append(tag)
    impacts = list(impacts or [])
    for impact in impacts:
        reached_kinds = {k for p in [impact.path, *impact.reached] for k in kinds_of(p, kinds)}
        impact.gates = sorted({g for k in reached_kinds for g in unit(k).gates})
        for path in impact.reached:
            for kind in kinds_of(path, kinds)[:1]:
                if path not in unit(kind).reached and path not in files:
                    unit(kind).reached.append(path)
        for own in kinds_of(impact.path, kinds):
            unit(own).tags = sorted(set(unit(own).tags) | set(impact.tags))
    ordered = [units[k] for k in sorted(units, key=lambda k: k.value)]
    for u in ordered:
        u.targets.sort()
        u.tags.sort()
        u.reached.sort()

    tags = {t for u in ordered for t in u.tags} | {t for i in impacts for t in i.tags}
    approvals: dict[str, int] = {}
    requirements: dict[str, dict[str, Any]] = {}
    for name, env in (environments or {}).items():
        n = approvals_for_tags(env, tags)
        if n:
            approvals[name] = n
        why = (f"'{FINANCE_TAG}' reached: {env.finance_approvers_required} instead of {env.approvers_required}"
               if n > env.approvers_required else "")
        requirements[name] = {"approvers": n, "why": why, "gates": list(env.gates)}

    notes: list[str] = []
    if any(f.startswith("legacy/") for f in files):
        notes.append("legacy DAG changed: legacy DAGs are checked for import, duplicate ids, cycles and DAG-less "
                     "files only; other findings need an unexpired exemption in legacy/dag_exemptions.yaml "
                     "(pass-through), review by hand")
    finance_targets = [str(t.get("address")) for t in targets if FINANCE_TAG in (t.get("tags") or [])]
    finance_reached = [r.split(": ", 1)[1] for i in impacts for r in i.policy_reasons if r.startswith(f"{FINANCE_TAG}:")]
    finance = list(dict.fromkeys(finance_reached + finance_targets))
    if finance:
        notes.append(f"finance model changed or reached ({', '.join(finance[:5])}{', ...' if len(finance) > 5 else ''}): "
                     f"prod needs {approvals.get('prod', 2)} approvers, none the author")
    for u in ordered:  # each changed kind's own risk note, from its KindSpec
        spec = kinds.get(u.kind)
        if spec is not None and spec.change_note:
            notes.append(spec.change_note)
    return ChangePlan(since=since, files=files, units=ordered, approvals=approvals, risk_notes=notes,
                      unmapped=sorted(unmapped), impacts=impacts, env_requirements=requirements)


def compute_change_plan(repo: Path, since: str, pants: PantsQuery | None,
                        environments: Mapping[str, Environment] | None = None, head: str = "HEAD") -> ChangePlan:
    """The plan of the changes ``since...head``: lineage read from ``head``; Pants (if given) for the rest."""
    files = changed_files(repo, since, head)
    lineage = lineage_at(repo, head)
    spark_locks = [f for f in files if LOCKFILE_KINDS.get(f) == ArtifactKind.SPARK_JOB]
    impacts = impact_of(lineage, [f for f in files if f not in spark_locks]) if files else []
    impacts += [_through_spark_jobs(lineage, f) for f in spark_locks]
    addresses = pants.changed_targets(since) if files and pants is not None else []
    targets = pants.peek(addresses) if pants is not None else []
    return plan_changes(files, targets, since, environments, impacts=impacts)


def to_markdown(cp: ChangePlan) -> str:
    """A PR comment: units, per-change downstream impact, and per environment the approvals and gates promote will
    enforce."""
    from northstar_release.explainer import IMPACT_COLUMNS, impact_rows

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>") or "-"

    lines = [f"### Release plan (changes since `{cp.since}`)", ""]
    if not cp.units:
        lines.append("No release units affected.")
    else:
        lines += ["| unit | targets | files | reached | tags | gates |", "|---|---|---|---|---|---|"]
        for u in cp.units:
            lines.append(f"| {u.kind.value} | {len(u.targets)} | {len(u.files)} | {len(u.reached)} | "
                         f"{', '.join(u.tags) or '-'} | {', '.join(u.gates)} |")
    if cp.impacts:
        lines += ["", "**Downstream impact per change:**", "",
                  "| " + " | ".join(IMPACT_COLUMNS) + " |", "|" + "---|" * len(IMPACT_COLUMNS)]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in impact_rows(cp.impacts)]
    if cp.env_requirements:
        lines += ["", "**What promote will require:**", ""]
        for env, req in cp.env_requirements.items():
            approvers = (f"{req['approvers']} approver(s), not the author" + (f" ({req['why']})" if req["why"] else "")
                         if req["approvers"] else "no approval")
            lines.append(f"- {env}: {approvers}; gates: {', '.join(req['gates']) or 'none'}")
    elif cp.approvals:
        lines += ["", "**Approvals:** " + ", ".join(f"{e}: {n} (not the author)" for e, n in cp.approvals.items())]
    if cp.risk_notes:
        lines += ["", "**Risk notes:**"] + [f"- {n}" for n in cp.risk_notes]
    if cp.unmapped:
        lines += ["", f"Files outside any release unit: {len(cp.unmapped)}"]
    return "\n".join(lines) + "\n"
