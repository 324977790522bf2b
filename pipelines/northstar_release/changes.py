"""The change planner behind ``./release plan [--since REF]``: which release units a change touches.

Why ask Pants: Pants already knows the dependency graph, so "changed-since REF with transitive dependents" finds every
target a change can affect through the dependencies Pants knows (Python imports, BUILD dependencies; dbt ref()/macro
lineage is not inferred yet, so a dbt file change names that file's target only), and ``peek`` gives each target's
type and tags (``finance`` raises the approvals needed in prod). The Pants call is injectable so unit tests feed
captured JSON instead of running Pants.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from northstar_release.errors import UsageError
from northstar_release.kinds.registry import KINDS, KindRegistry
from northstar_release.model import ArtifactKind, Environment


class PantsQuery(Protocol):
    def changed_targets(self, since: str) -> list[str]: ...

    def peek(self, addresses: list[str]) -> list[dict[str, Any]]: ...


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


POLICY_TAGS = ("finance",)


def release_tags(repo: Path, since: str | None, pants: SubprocessPants) -> tuple[set[str], str]:
    """Tags a release must carry, so policies (e.g. two approvers for finance) never depend on the builder remembering
    a flag. With ``since`` (the commit live in prod): the Pants tags of targets changed since then. Without (nothing in
    prod yet): the release ships everything, so every policy tag that any target carries applies.
    Returns the tags and a one-line explanation for the audit log."""
    if since:
        return set(compute_change_plan(repo, since, pants).tags), f"Pants tags of targets changed since {since}"
    tags = {tag for tag in POLICY_TAGS if pants.targets_tagged(tag)}
    return tags, "first release to prod: policy tags of every target in the repository"


def changed_files(repo: Path, since: str) -> list[str]:
    proc = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", f"{since}...HEAD"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise UsageError(f"git diff {since}...HEAD failed: {proc.stderr.strip()}")
    return [line for line in proc.stdout.splitlines() if line]


def _root_of(address_or_path: str) -> str:
    path = address_or_path.split(":", 1)[0].lstrip("/")
    return path.split("/", 1)[0] if path else ""


@dataclass
class ReleaseUnit:
    kind: ArtifactKind
    targets: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)


@dataclass
class ChangePlan:
    since: str
    files: list[str]
    units: list[ReleaseUnit]
    approvals: dict[str, int]  # env -> approvers needed
    risk_notes: list[str]
    unmapped: list[str]

    @property
    def tags(self) -> list[str]:
        return sorted({t for u in self.units for t in u.tags})

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since, "files": self.files, "tags": self.tags, "approvals": self.approvals,
            "risk_notes": self.risk_notes, "unmapped": self.unmapped,
            "units": [{"kind": u.kind.value, "targets": u.targets, "files": u.files, "tags": u.tags,
                       "gates": u.gates} for u in self.units],
        }


def plan_changes(files: list[str], targets: list[dict[str, Any]], since: str,
                 environments: Mapping[str, Environment] | None = None, kinds: KindRegistry = KINDS) -> ChangePlan:
    """Group changed files and affected targets (peek JSON) into release units; derive approvals and risk notes.

    Which folder feeds which kind, and what checks it, comes from each kind's ``KindSpec`` (kinds/registry.py)."""
    kind_by_root = kinds.kind_by_root()
    units: dict[ArtifactKind, ReleaseUnit] = {}
    unmapped: list[str] = []

    def unit(kind: ArtifactKind) -> ReleaseUnit:
        if kind not in units:
            spec = kinds.get(kind)
            units[kind] = ReleaseUnit(kind=kind, gates=list(spec.gates) if spec and spec.gates else
                                      [spec.label if spec else f"{kind.value}: no KindSpec"])
        return units[kind]

    for f in files:
        kind = kind_by_root.get(_root_of(f))
        if kind is None:
            unmapped.append(f)
        else:
            unit(kind).files.append(f)
    for t in targets:
        address = str(t.get("address", ""))
        kind = kind_by_root.get(_root_of(address))
        if kind is None:
            continue
        u = unit(kind)
        u.targets.append(address)
        for tag in t.get("tags") or []:
            if tag not in u.tags:
                u.tags.append(tag)
    ordered = [units[k] for k in sorted(units, key=lambda k: k.value)]
    for u in ordered:
        u.targets.sort()
        u.tags.sort()

    approvals: dict[str, int] = {}
    finance = any("finance" in u.tags for u in ordered)
    for name, env in (environments or {}).items():
        n = env.approvers_required
        if finance:
            n = max(n, env.finance_approvers_required)
        if n:
            approvals[name] = n

    notes: list[str] = []
    if any(f.startswith("legacy/") for f in files):
        notes.append("legacy DAG changed: legacy DAGs are only import-checked (pass-through), review by hand")
    finance_targets = [t.get("address") for t in targets if "finance" in (t.get("tags") or [])]
    if finance_targets:
        notes.append(f"finance model changed ({', '.join(map(str, finance_targets[:5]))}): "
                     f"prod needs {approvals.get('prod', 2)} approvers, none the author")
    for u in ordered:  # each changed kind's own risk note, from its KindSpec
        spec = kinds.get(u.kind)
        if spec is not None and spec.change_note:
            notes.append(spec.change_note)
    return ChangePlan(since=since, files=files, units=ordered, approvals=approvals, risk_notes=notes,
                      unmapped=sorted(unmapped))


def compute_change_plan(repo: Path, since: str, pants: PantsQuery,
                        environments: Mapping[str, Environment] | None = None) -> ChangePlan:
    files = changed_files(repo, since)
    addresses = pants.changed_targets(since) if files else []
    return plan_changes(files, pants.peek(addresses), since, environments)


def to_markdown(cp: ChangePlan) -> str:
    """A PR comment."""
    lines = [f"### Release plan (changes since `{cp.since}`)", ""]
    if not cp.units:
        lines.append("No release units affected.")
    else:
        lines += ["| unit | targets | files | tags | gates |", "|---|---|---|---|---|"]
        for u in cp.units:
            lines.append(f"| {u.kind.value} | {len(u.targets)} | {len(u.files)} | {', '.join(u.tags) or '-'} | "
                         f"{', '.join(u.gates)} |")
    if cp.approvals:
        lines += ["", "**Approvals:** " + ", ".join(f"{e}: {n} (not the author)" for e, n in cp.approvals.items())]
    if cp.risk_notes:
        lines += ["", "**Risk notes:**"] + [f"- {n}" for n in cp.risk_notes]
    if cp.unmapped:
        lines += ["", f"Files outside any release unit: {len(cp.unmapped)}"]
    return "\n".join(lines) + "\n"
