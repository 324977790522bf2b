"""``infra_check preview``: what the Pulumi program would add, change and remove in a stack, and what it would cost.

Usage::

    infra_check preview --stack ENV --config FILE --prices FILE [--baseline-state FILE | --baseline-config FILE]

Prints one ``northstar_contracts.infra.InfraPreviewReport``. Exit 0 the program ran, 1 it refused the config, 2 bad
usage (missing file, malformed price table or ``northstar:costUsage``).

Why mocks against a recorded state: there is no Pulumi CLI here, so no ``pulumi preview``. What the local backend
keeps instead is the *stack state*: every resource the program declared for the live config, with its inputs,
written atomically by ``check --state-out`` when the release engine verifies a deployed stack (``envs/<env>/infra/
state.<env>.json``). The new config runs through the same recording mocks; resources are matched by URN and their
inputs compared key by key, which is what ``pulumi preview`` does against its checkpoint (minus provider-side
diffs). Without a state (nothing deployed yet, or ``./release plan`` on a fresh checkout) the program is run on a
baseline config instead -- the stack file at the base commit. The cost of both sides comes from ``cost.py``; the
budget decision is the release engine's (``gates/cost.py``), not the component's.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from northstar_contracts.harness import JsonArgumentParser, Outcome, UsageError
from northstar_contracts.infra import InfraPreviewReport, ResourceChange
from northstar_infra import cost
from northstar_infra.check import DEFAULT_PROGRAM, load_program, project_name, read_stack_config, run_program

STATE_SCHEMA = "northstar.infra_stack_state/1"


class _Recorded:
    """A resource as a state file holds it (the shape cost.py and the diff read)."""

    def __init__(self, urn: str, type: str, name: str, props: Mapping[str, Any]) -> None:
        self.urn, self.type, self.name, self.props = urn, type, name, props


def snapshot(stack: str, config_path: Path, program_spec: str = DEFAULT_PROGRAM) -> dict[str, Any]:
    """Run the program under mocks with ``config_path``; the stack state (resources with inputs, declared usage)."""
    project = project_name(config_path)
    config = read_stack_config(config_path, project)
    resources, urns = run_program(stack, config, project, load_program(program_spec))
    recorded = [{"urn": urns.get((r.type, r.name), f"{r.type}::{r.name}"), "type": r.type, "name": r.name,
                 "inputs": r.props} for r in sorted(resources, key=lambda r: (r.type, r.name))]
    return {"schema": STATE_SCHEMA, "stack": stack, "usage": cost.parse_usage(config.get(cost.USAGE_KEY)),
            "resources": recorded}


def write_state(state: Mapping[str, Any], path: Path) -> None:
    """Atomically (temp file + ``os.replace``): a reader sees the old or the new state, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=1, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"cannot read stack state {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"stack state {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != STATE_SCHEMA or not isinstance(data.get("resources"), list):
        raise UsageError(f"stack state {path}: not a {STATE_SCHEMA} document")
    return data


def _records(state: Mapping[str, Any]) -> list[_Recorded]:
    return [_Recorded(r["urn"], r["type"], r["name"], r.get("inputs") or {}) for r in state["resources"]]


def diff(old: Iterable[_Recorded], new: Iterable[_Recorded]) -> tuple[list[ResourceChange], ...]:
    """(adds, changes, removes) matched by URN; a change lists the top-level inputs whose values differ."""
    before = {r.urn: r for r in old}
    after = {r.urn: r for r in new}

    def change(r: _Recorded, keys: list[str] | None = None) -> ResourceChange:
        return ResourceChange(urn=r.urn, type=r.type, name=r.name, keys=keys or [])

    adds = [change(after[u]) for u in sorted(set(after) - set(before))]
    removes = [change(before[u]) for u in sorted(set(before) - set(after))]
    changes = []
    for u in sorted(set(before) & set(after)):
        a, b = before[u].props, after[u].props
        keys = sorted(k for k in set(a) | set(b) if json.dumps(a.get(k), sort_keys=True, default=str)
                      != json.dumps(b.get(k), sort_keys=True, default=str))
        if keys:
            changes.append(change(after[u], keys))
    return adds, changes, removes


def preview(stack: str, config_path: Path, prices_path: Path, baseline_state: Path | None = None,
            baseline_config: Path | None = None, program_spec: str = DEFAULT_PROGRAM) -> InfraPreviewReport:
    try:
        prices = cost.load_prices(prices_path)
    except cost.CostError as exc:
        raise UsageError(str(exc), stack=stack) from exc
    base: dict[str, Any] | None = None
    label = "none"
    if baseline_state is not None:
        base, label = read_state(baseline_state), f"state:{baseline_state}"
    elif baseline_config is not None:
        label = f"config:{baseline_config}"
        try:
            base = snapshot(stack, baseline_config, program_spec)
        except Exception:  # noqa: BLE001 - a baseline the program refuses: compare against nothing, say so
            base, label = None, f"none (the program refused the baseline config {baseline_config})"
    try:
        new = snapshot(stack, config_path, program_spec)
    except cost.CostError as exc:
        raise UsageError(f"{config_path}: {exc}", stack=stack) from exc
    except Exception as exc:  # the program refused the new config: a finding, not a usage error
        return InfraPreviewReport(ok=False, stack=stack, baseline=label, adds=[], changes=[], removes=[], cost=None,
                                  baseline_cost=None, error=f"{type(exc).__name__}: {exc}")
    new_records = _records(new)
    old_records = _records(base) if base else []
    adds, changes, removes = diff(old_records, new_records)
    try:
        new_cost = cost.estimate(new_records, prices, new["usage"], stack)
        old_usage = cost.parse_usage(base.get("usage")) if base else {}
        if base and not old_usage and new["usage"]:
            # A baseline from before usage was declared: price it with the same usage, so that only resource changes
            # count -- declaring the workload is not itself a cost increase.
            old_usage, label = new["usage"], f"{label} (no usage declared there: priced with the new costUsage)"
        old_cost = cost.estimate(old_records, prices, old_usage, stack) if base else None
    except cost.CostError as exc:
        raise UsageError(str(exc), stack=stack) from exc
    return InfraPreviewReport(ok=True, stack=stack, baseline=label, adds=adds, changes=changes, removes=removes,
                              cost=new_cost, baseline_cost=old_cost)


def handle(argv: list[str]) -> Outcome:
    parser = JsonArgumentParser(prog="infra_check preview", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config", type=Path, required=True, help="the new stack config")
    parser.add_argument("--prices", type=Path, required=True, help="price table (infra/pricing/<version>.yaml)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--baseline-state", type=Path, help="stack state recorded by check --state-out")
    group.add_argument("--baseline-config", type=Path, help="stack config to run as the baseline")
    parser.add_argument("--program", default=DEFAULT_PROGRAM, help="MODULE:FUNCTION declaring the resources")
    args = parser.parse_args(argv)
    for path in (args.config, args.prices, args.baseline_state, args.baseline_config):
        if path is not None and not path.is_file():
            raise UsageError(f"{path} does not exist", stack=args.stack)
    report = preview(args.stack, args.config, args.prices, args.baseline_state, args.baseline_config, args.program)
    return Outcome.of(report)
