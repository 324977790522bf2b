"""What ``./release plan`` checks beyond the change map: secrets in the changed sources, the per-env configs, and the
infra diff and monthly cost per stack.

Why at plan (the pull-request view) and not only at build/deploy: a reviewer should see a committed credential, a
broken config or a $20K/month sizing change on the change itself. Everything reads the committed content at HEAD,
not the working tree. Order matters: a secret finding blocks (exit 1) before anything else runs, so nothing that
follows can echo a file holding it; a bad config is bad input (exit 2); the cost decision is ``gates/cost.py``'s.

Infra baseline per stack: the stack state the local backend recorded when that environment was last verified
(``<state>/envs/<stack>/infra/state.<stack>.json``), else the stack file at the base commit run through the same
program. At plan time a growth over the threshold is listed as needing ``--tag ack:infra-cost`` at build (the
acknowledgement is a property of the release); being over budget blocks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from northstar_contracts.infra import InfraPreviewReport
from northstar_release import envconfig, gitutil
from northstar_release.adapters.base import ComponentRunner
from northstar_release.errors import Blocked, UsageError
from northstar_release.gates import cost
from northstar_release.gates.secrets_gate import changed_files_at, scan_changed

INFRA_DIR = "infra"


@dataclass
class PlanChecks:
    files_scanned: int = 0
    config_digests: dict[str, str] = field(default_factory=dict)
    infra: cost.CostDecision | None = None

    def to_json(self) -> dict[str, Any]:
        infra = None if self.infra is None else {"lines": self.infra.lines, "needs_ack": self.infra.needs_ack,
                                                 **self.infra.evidence}
        return {"secret_scan": {"files_scanned": self.files_scanned, "findings": []},
                "env_config": self.config_digests, "infra_cost": infra}

    def lines(self) -> list[str]:
        out = [f"secret scan: {self.files_scanned} changed file(s), no findings"]
        out += [f"config {env}: valid, sha256 {digest[:12]}" for env, digest in sorted(self.config_digests.items())]
        if self.infra is not None:
            out += [f"infra: {line}" for line in self.infra.lines]
            out += [f"infra: needs acknowledgement: {line}" for line in self.infra.needs_ack]
        return out


def _show(repo: Path, commit: str, path: str) -> bytes | None:
    try:
        return gitutil.git(repo, "show", f"{commit}:{path}")
    except UsageError:
        return None


def infra_decision(repo: Path, since: str, head: str, state_dir: Path, runner: ComponentRunner) -> cost.CostDecision:
    """Preview every stack at ``head`` against its recorded state (or the base commit's stack file)."""
    stacks = sorted(p.rsplit("/", 1)[1][len("Pulumi."):-len(".yaml")] for p, _ in gitutil.list_tree(repo, head, INFRA_DIR)
                    if p.count("/") == 1 and p.startswith(f"{INFRA_DIR}/Pulumi.") and p != f"{INFRA_DIR}/Pulumi.yaml")
    with tempfile.TemporaryDirectory(prefix="release-plan-infra-") as tmp:
        root = Path(tmp)
        prices = cost.price_table_at(repo, head, root)
        budget, growth = cost.limits_at(repo, head)
        jobs: dict[str, Callable[[], InfraPreviewReport]] = {}
        for stack in stacks:
            paths = []
            for side, commit in (("new", head), ("base", since)):
                folder = root / side / stack
                folder.mkdir(parents=True)
                raw = _show(repo, commit, f"{INFRA_DIR}/Pulumi.{stack}.yaml")
                project = _show(repo, commit, f"{INFRA_DIR}/Pulumi.yaml")
                if project is not None:
                    (folder / "Pulumi.yaml").write_bytes(project)
                path = folder / f"Pulumi.{stack}.yaml"
                if raw is not None:
                    path.write_bytes(raw)
                paths.append(path if raw is not None else None)
            new, base = paths
            assert new is not None
            state = cost.state_file(state_dir / "envs", stack)
            jobs[stack] = (lambda s=stack, n=new, b=base, st=state:  # type: ignore[misc]
                           cost.run_preview(runner, s, n, prices, st, b))
        return cost.decide(cost.previews(runner, jobs), budget, growth, acks=())


def run_plan_checks(repo: Path, since: str, state_dir: Path, runner: ComponentRunner,
                    head: str = "HEAD") -> PlanChecks:
    """Raise ``Blocked`` on a secret or an over-budget infra change, ``ConfigError`` on a bad config."""
    commit = gitutil.git(repo, "rev-parse", head).decode().strip()
    findings, scanned = scan_changed(repo, since, commit)
    if findings:
        raise Blocked(f"secret scan: {len(findings)} potential secret(s) in the changes since {since}",
                      [*findings, "remove the secret (reference it: env_var(), a secrets backend, Pulumi secret "
                                  "config) or, if reviewed as a false positive, add it to .secrets.baseline"])
    checks = PlanChecks(files_scanned=scanned, config_digests=envconfig.validate_commit(repo, commit))
    changed = changed_files_at(repo, since, commit)
    if any(f.startswith(f"{INFRA_DIR}/") for f in changed) and gitutil.list_tree(repo, commit, f"{INFRA_DIR}/Pulumi.yaml"):
        checks.infra = infra_decision(repo, since, commit, state_dir, runner)
        if checks.infra.blocked:
            raise Blocked("infra cost gate: the change is over budget or refused by the Pulumi program",
                          checks.infra.blocked + [f"estimate: {line}" for line in checks.infra.lines])
    return checks
