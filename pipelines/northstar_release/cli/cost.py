"""``cost``: the platform's monthly cost per stack and component, the incremental total and the headroom.

Read-only. The figures are the ``infra_cost`` gate's own estimates (``infra_check preview`` per stack, the program
under Pulumi mocks, the newest price table at the commit); ``northstar_release.cost_model`` sorts them into
components and applies ``infra/cost-model.yaml`` (what prod already pays for; what the program does not declare).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from northstar_release.cli.app import OUT, App, command, emit, json_option
from northstar_release.errors import UsageError

STACK_ORDER = ("dev", "staging", "prod")


def _stacks_at(repo: Path, commit: str) -> list[str]:
    from northstar_release import gitutil

    names = [Path(p).name for p, _ in gitutil.list_tree(repo, commit, "infra")]
    found = [n.removeprefix("Pulumi.").removesuffix(".yaml") for n in names
             if n.startswith("Pulumi.") and n.endswith(".yaml") and n != "Pulumi.yaml"]
    return sorted(found, key=lambda s: (STACK_ORDER.index(s) if s in STACK_ORDER else len(STACK_ORDER), s))


def _show(repo: Path, commit: str, path: str) -> bytes:
    from northstar_release import gitutil

    try:
        return gitutil.git(repo, "show", f"{commit}:{path}")
    except UsageError as exc:
        raise UsageError(f"{path} is not in {commit[:12]}", [str(exc)[:300]]) from None


def compute(app: App, rev: str) -> Any:
    """The cost summary of the repository at ``rev`` (see module docstring)."""
    from northstar_release import cost_model, gitutil, strict_yaml
    from northstar_release.gates import cost as gate
    from northstar_release.runner import SubprocessComponentRunner

    commit = gitutil.git(app.repo, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    stacks = _stacks_at(app.repo, commit)
    if not stacks:
        raise UsageError(f"no infra/Pulumi.<stack>.yaml at {commit[:12]}: nothing to price")
    model = cost_model.parse_model(strict_yaml.loads(_show(app.repo, commit, cost_model.MODEL_PATH),
                                                     cost_model.MODEL_PATH, "cost model"))
    budget, _growth = gate.limits_at(app.repo, commit)
    runner = SubprocessComponentRunner(app.repo)
    configs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="release-cost-") as tmp:
        root = Path(tmp)
        prices = gate.price_table_at(app.repo, commit, root)
        jobs = {}
        for stack in stacks:
            folder = root / stack
            folder.mkdir()
            (folder / "Pulumi.yaml").write_bytes(_show(app.repo, commit, "infra/Pulumi.yaml"))
            raw = _show(app.repo, commit, f"infra/Pulumi.{stack}.yaml")
            (folder / f"Pulumi.{stack}.yaml").write_bytes(raw)
            configs[stack] = (strict_yaml.loads(raw, f"infra/Pulumi.{stack}.yaml") or {}).get("config") or {}
            jobs[stack] = (lambda s=stack, c=folder / f"Pulumi.{stack}.yaml":
                           gate.run_preview(runner, s, c, prices, None))
        reports = gate.previews(runner, jobs)
    refused = [f"stack {s}: {r.error}" for s, r in reports.items() if not r.ok or r.cost is None]
    if refused:
        raise UsageError("the Pulumi program refuses a stack config: no estimate", refused)
    return cost_model.summarize({s: reports[s].cost for s in stacks}, model, budget, configs), commit


def _rows(summary: Any) -> tuple[list[str], list[list[str]]]:
    """The per-component table shared by the terminal and the Markdown rendering: header, then one row per component
    present in any stack, then the totals (``*`` marks an incremental cell)."""
    from northstar_release.cost_model import COMPONENTS

    stacks = list(dict.fromkeys(c.stack for c in summary.cells))
    by = {(c.stack, c.component): c for c in summary.cells}
    incremental = summary.incremental_by_component()
    rows = []
    for comp, label in COMPONENTS.items():
        row = [by.get((s, comp)) for s in stacks]
        if any(row):
            rows.append([label, *[f"{c.monthly_usd:,.2f}{'*' if c.incremental else ''}" if c else "-" for c in row],
                         f"{incremental.get(comp, 0.0):,.2f}"])
    totals = [sum(c.monthly_usd for c in summary.cells if c.stack == s) for s in stacks]
    rows.append(["total", *[f"{t:,.2f}" for t in totals], f"{summary.incremental_usd:,.2f}"])
    return ["component", *stacks, "incremental"], rows


def _lines(summary: Any) -> list[str]:
    """The verdict, the all-in figure, the gate's own stack totals and the assumptions, one line each."""
    over = summary.all_in_usd - summary.budget_usd
    return [
        f"incremental total ${summary.incremental_usd:,.2f}/month; budget ${summary.budget_usd:,.2f} "
        f"(pipelines/config/prod.yaml infra.monthly_budget_usd); headroom ${summary.headroom_usd:,.2f} "
        f"({summary.headroom_pct:.1f}%): {summary.verdict()}",
        f"if today's prod estate were counted too: ${summary.all_in_usd:,.2f}/month "
        + (f"(over the budget by ${over:,.2f})" if over > 0 else f"(under the budget by ${-over:,.2f})"),
        "program stack totals (the gate's estimates): "
        + ", ".join(f"{s} ${v:,.2f}" for s, v in summary.stack_totals.items())
        + "; release state store and monitoring come from infra/cost-model.yaml (not declared by the program, "
        "so the infra_cost gate does not see them)",
    ]


def to_markdown(summary: Any) -> str:
    """The summary as Markdown, for docs/design.md (a test compares the two) and for PR comments. Without the commit:
    the figures depend on the stack files, price table and cost model only, so unchanged inputs give the same text."""
    header, rows = _rows(summary)
    out = [f"Monthly cost in USD, price table `{summary.price_table}`; `*` marks incremental spend.", "",
           "| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    out += ["", *(f"- {line}" for line in _lines(summary)), "", "Assumptions:", ""]
    out += [f"- {note}" for note in summary.notes]
    return "\n".join(out) + "\n"


@click.command("cost")
@click.option("--at", "rev", default="HEAD", show_default=True, help="Price the stack files at this commit.")
@click.option("--markdown", is_flag=True, help="Print the table and figures as Markdown (as in docs/design.md).")
@json_option
@click.pass_obj
@command
def cost_cmd(app: App, rev: str, markdown: bool, as_json: bool) -> None:
    """Monthly cost per stack and component (the infra_cost gate's estimates), the incremental spend over today's
    prod estate and the headroom under the budget of pipelines/config/prod.yaml."""
    if markdown and as_json:
        raise UsageError("choose one of --markdown and --json")
    summary, commit = compute(app, rev)
    doc = {**summary.to_json(), "commit": commit}

    def human() -> None:
        if markdown:
            click.echo(to_markdown(summary), nl=False)
            return
        header, rows = _rows(summary)
        table = Table(title=f"monthly cost, USD ({summary.price_table}, {commit[:12]}); * = incremental")
        for col in header:
            table.add_column(col, justify="left" if col == "component" else "right")
        for row in rows:
            table.add_row(*row)
        OUT.print(table)
        for line in _lines(summary):
            OUT.print(line, highlight=False, markup=False)
        for note in summary.notes:
            OUT.print(f"- {note}", highlight=False, markup=False)

    emit(app, doc, human)
