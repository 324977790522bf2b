"""infra_cost: what the release's Pulumi program would add, change and remove per stack, what that costs per month,
and a block when the increase is over budget.

For every stack in the release's infra version map the component entry point ``infra_check preview`` runs the
program under Pulumi mocks with the stack config the release would write, compares it with the *stack state* the
local backend recorded when that environment was last verified (``envs/<stack>/infra/state.<stack>.json``), and
prices both sides from the versioned price table at the release's commit (``infra/pricing/*.yaml``, the newest
version). The engine decides, the component only measures:

* blocked when the release's incremental monthly cost over the deployed baseline (summed over the stacks that have
  one) exceeds ``infra.monthly_budget_usd`` of ``pipelines/config/prod.yaml`` (default $15,000) -- no override;
* blocked when a stack grows by more than ``infra.cost_growth_threshold_pct`` (default 25 %) unless the release
  carries the acknowledgement tag ``ack:infra-cost`` (``./release build --tag ack:infra-cost``), which is recorded
  in the release and its audit entry;
* a stack never deployed has no baseline: its estimate is shown and recorded, not compared.

Every stack is checked at every environment, so a prod-sized mistake is stopped at dev already. ``./release plan``
runs the same decision (``plan_report``) with the stack files of the base commit as the baseline where no state
exists.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from northstar_contracts.infra import InfraPreviewReport
from northstar_release import envconfig, gitutil
from northstar_release.adapters.base import ComponentRunner
from northstar_release.errors import UsageError
from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult
from northstar_release.runner import call

ENTRY_POINT = "infra_check"
PRICING_DIR = "infra/pricing"
ACK = "infra-cost"
DEFAULT_BUDGET_USD = 15000.0
DEFAULT_GROWTH_PCT = 25.0


def state_file(envs_root: Path, stack: str) -> Path:
    """Where the local backend keeps a stack's last verified state (written by ``infra_check --state-out``)."""
    return envs_root / stack / "infra" / f"state.{stack}.json"


def limits_at(repo: Path, commit: str) -> tuple[float, float]:
    """(budget, growth threshold %) from ``pipelines/config/prod.yaml`` at ``commit``, or the defaults."""
    loaded = envconfig.load_at(repo, commit, "prod")
    if loaded is None:
        return DEFAULT_BUDGET_USD, DEFAULT_GROWTH_PCT
    infra = loaded[0].infra
    return infra.monthly_budget_usd, infra.cost_growth_threshold_pct


def price_table_at(repo: Path, commit: str, into: Path) -> Path:
    """Copy the newest price table at ``commit`` (file names sort by version) into ``into``."""
    tables = sorted(p for p, _ in gitutil.list_tree(repo, commit, PRICING_DIR) if p.endswith(".yaml"))
    if not tables:
        raise UsageError(f"no price table under {PRICING_DIR}/ at {commit[:12]}: the cost gate cannot estimate")
    target = into / Path(tables[-1]).name
    target.write_bytes(gitutil.git(repo, "show", f"{commit}:{tables[-1]}"))
    return target


def run_preview(runner: ComponentRunner, stack: str, config: Path, prices: Path, state: Path | None,
                baseline_config: Path | None = None) -> InfraPreviewReport:
    args = ["preview", "--stack", stack, "--config", str(config), "--prices", str(prices)]
    if state is not None and state.is_file():
        args += ["--baseline-state", str(state)]
    elif baseline_config is not None:
        args += ["--baseline-config", str(baseline_config)]
    reported = call(runner, ENTRY_POINT, args, InfraPreviewReport, subcommand="preview")
    if reported.result is None:
        raise UsageError(f"infra_check preview --stack {stack} printed no preview report",
                         [str(reported.error), f"exit code {reported.exit_code}", reported.stderr_tail[-500:]])
    return reported.result


def previews(runner: ComponentRunner, jobs: Mapping[str, Callable[[], InfraPreviewReport]]) -> dict[str, Any]:
    """Run one preview per stack in parallel (each is a Pulumi-mocks process); stack -> report."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {stack: pool.submit(job) for stack, job in jobs.items()}
        return {stack: f.result() for stack, f in futures.items()}


def _usd(x: float) -> str:
    return f"${x:,.2f}"


@dataclass
class CostDecision:
    blocked: list[str] = field(default_factory=list)  # over budget, or a config the program refuses: no override
    needs_ack: list[str] = field(default_factory=list)  # growth over the threshold, not acknowledged
    lines: list[str] = field(default_factory=list)  # per stack: diff counts, baseline -> estimate, largest items
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def refusals(self) -> list[str]:
        return self.blocked + self.needs_ack


def decide(reports: Mapping[str, InfraPreviewReport], budget: float, growth_pct: float, acks: tuple[str, ...]
           ) -> CostDecision:
    """Apply the budget and the growth threshold to the per-stack previews (see module docstring)."""
    d = CostDecision()
    increase = 0.0
    stacks: dict[str, Any] = {}
    for stack, r in sorted(reports.items()):
        if not r.ok or r.cost is None:
            d.blocked.append(f"stack {stack}: the program refuses the release's config: {r.error}")
            stacks[stack] = {"ok": False, "error": r.error}
            continue
        new = r.cost.monthly_usd
        old = r.baseline_cost.monthly_usd if r.baseline_cost is not None else None
        diff = f"+{len(r.adds)} ~{len(r.changes)} -{len(r.removes)}"
        changed = ", ".join(f"{c.name}({','.join(c.keys)})" for c in r.changes if c.type != "aws:ssm/parameter:Parameter")
        top = sorted(r.cost.lines, key=lambda line: -line.monthly_usd)[:3]
        detail = "; ".join(f"{line.item} {_usd(line.monthly_usd)}" for line in top)
        stacks[stack] = {"baseline": r.baseline, "adds": [a.urn for a in r.adds], "removes": [x.urn for x in r.removes],
                         "changes": {c.urn: c.keys for c in r.changes}, "monthly_usd": new, "baseline_monthly_usd": old,
                         "price_table": r.cost.price_table, "price_table_sha256": r.cost.price_table_sha256}
        if old is None:
            d.lines.append(f"stack {stack}: {diff} resources; estimate {_usd(new)}/month (no deployed baseline, "
                           f"not compared); largest: {detail}")
            continue
        delta = new - old
        increase += delta
        pct = (delta / old * 100) if old > 0 else (0.0 if delta == 0 else float("inf"))
        d.lines.append(f"stack {stack}: {diff} resources{f' (changed: {changed})' if changed else ''}; "
                       f"{_usd(old)} -> {_usd(new)}/month ({'+' if delta >= 0 else ''}{_usd(delta)}, "
                       f"{pct:+.1f}%); largest: {detail}")
        if pct > growth_pct and ACK not in acks:
            d.needs_ack.append(f"stack {stack}: monthly cost grows {pct:+.1f}% ({_usd(old)} -> {_usd(new)}), over the "
                             f"{growth_pct:g}% threshold without acknowledgement (build with --tag ack:{ACK})")
    if increase > budget:
        d.blocked.insert(0, f"incremental monthly cost {_usd(increase)} over the deployed baseline exceeds the budget "
                            f"of {_usd(budget)} (pipelines/config/prod.yaml infra.monthly_budget_usd)")
    d.evidence = {"incremental_monthly_usd": round(increase, 2), "budget_usd": budget, "growth_threshold_pct": growth_pct,
                  "acknowledged": ACK in acks, "stacks": stacks}
    return d


class InfraCostGate:
    name = "infra_cost"
    description = ("per stack: resources the Pulumi program would add/change/remove against the deployed stack state "
                   "(mocks) and the monthly cost from the versioned price table; blocks over budget (default $15K) or "
                   "growth over the threshold without ack:infra-cost")
    kind = ArtifactKind.INFRA_VERSION_MAP
    environment_dependent = True  # the baseline is what is deployed now

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        from northstar_release.adapters.infra_version_map import PROJECT_FILE, render_stack_config

        artifact = ctx.release.artifact(self.kind)
        if artifact is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no infra version map")]
        target = f"{artifact.name}@{artifact.sha256[:12]}"
        repo = ctx.repo or gitutil.repo_root(Path.cwd()) or Path(".")
        version_map = json.loads(Path(ctx.env.artifact_path(artifact)).read_bytes())
        stacks = sorted((version_map.get("infra") or {}).get("stacks") or {})
        envs_root = ctx.env.env_dir.parent
        with tempfile.TemporaryDirectory(prefix="infra-cost-") as tmp:
            root = Path(tmp)
            try:
                prices = price_table_at(repo, ctx.release.git_commit, root)
                budget, growth = limits_at(repo, ctx.release.git_commit)
            except UsageError as exc:
                return [GateResult(gate=self.name, target=target, outcome=GateOutcome.FAILED, summary=exc.message,
                                   evidence={"reasons": exc.reasons})]
            jobs = {}
            for stack in stacks:
                folder = root / stack
                folder.mkdir()
                project = (version_map.get("infra") or {}).get("project")
                if project:
                    (folder / PROJECT_FILE).write_text(project)
                config = folder / f"Pulumi.{stack}.yaml"
                config.write_bytes(render_stack_config(version_map, stack, artifact.sha256))
                jobs[stack] = (lambda s=stack, c=config: run_preview(ctx.env.runner, s, c, prices,
                                                                     state_file(envs_root, s)))
            decision = decide(previews(ctx.env.runner, jobs), budget, growth, ctx.release.acks)
        refused = decision.refusals
        summary = " | ".join(refused + decision.lines)
        return [GateResult(gate=self.name, target=target, outcome=GateOutcome.FAILED if refused else GateOutcome.PASSED,
                           summary=summary or "no stacks", evidence={**decision.evidence, "blocked": refused})]
