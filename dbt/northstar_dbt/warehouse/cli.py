"""The warehouse entry point's command line: argv -> :class:`WarehouseOptions` -> one subcommand -> one record."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from northstar_contracts.harness import JsonArgumentParser, Outcome, run_entrypoint
from northstar_contracts.warm_start import console
from northstar_dbt.warehouse import commands, contracts, freshness, quality, serving
from northstar_dbt.warehouse.engine import hermetic_env
from northstar_dbt.warehouse.options import WarehouseOptions

HANDLERS: dict[str, Callable[[WarehouseOptions], Outcome]] = {
    "plan": commands.cmd_plan,
    "check": commands.cmd_check,
    "verify": commands.cmd_verify,
    "audit": commands.cmd_audit,
    "unit-test": commands.cmd_unit_test,
    "tables": commands.cmd_tables,
    "pin": commands.cmd_pin,
    "unpin": commands.cmd_unpin,
    "envs": commands.cmd_envs,
    "janitor": commands.cmd_janitor,
    "dq": quality.cmd_dq,
    "contracts": contracts.cmd_contracts,
    "freshness": freshness.cmd_freshness,
    "serving": serving.cmd_serving,
}


def build_parser() -> argparse.ArgumentParser:
    parser = JsonArgumentParser(prog="northstar_dbt.warehouse",
                                description="Warehouse component entry point (SQLMesh over the dbt project).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=JsonArgumentParser)

    def common(p: argparse.ArgumentParser, warehouse: bool = True) -> None:
        p.add_argument("--project", type=Path, required=True, help="dbt project dir with SQLMesh config.py")
        p.add_argument("--warehouse", type=Path, required=warehouse, help="DuckDB warehouse file")
        p.add_argument("--state", type=Path, required=False, help="SQLMesh state DuckDB file")
        p.add_argument("--state-url", default=os.environ.get("NORTHSTAR_SQLMESH_STATE_URL") or None,
                       help="postgresql://... SQLMesh state (instead of --state)")
        p.add_argument("--target", default="duckdb", help="dbt profile target (gateway)")

    def acks(p: argparse.ArgumentParser) -> None:
        p.add_argument("--ack", action="append", default=[], metavar="MODEL",
                       help="acknowledge a breaking finance / forward-only change of MODEL (repeatable)")

    p = sub.add_parser("plan", help="plan (and with --apply, apply) the project into a SQLMesh environment")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--apply", action="store_true")
    acks(p)
    p.add_argument("--virtual-only", action="store_true",
                   help="refuse (exit 1) unless every snapshot already exists: rollback semantics")
    p.add_argument("--verify", action="store_true", help="after applying: tables + audits of ENV (same process)")
    p.add_argument("--pin", metavar="NAME", help="with --verify: when verified, pin the snapshots as keep_NAME")
    p.add_argument("--unpin", action="append", default=[], metavar="NAME", help="with --verify: release old pins")
    p.add_argument("--from-env", action="append", default=[], metavar="SRC",
                   help="plan from SQLMesh state over SRC's snapshot set without loading the project (repeatable: "
                        "the first usable wins); falls back to loading the project when that is no virtual update")
    p.add_argument("--state-only", action="store_true",
                   help="with --from-env: refuse (exit 1, nothing changed) instead of falling back")

    p = sub.add_parser("check", help="pre-deploy gate in one process: unit-test + audit --scratch + plan (no apply)")
    common(p)
    p.add_argument("--env", required=True)
    acks(p)

    p = sub.add_parser("dq", help="write-audit-publish: apply into wap_ENV, diff changed models + direct downstream "
                                  "with prod (northstar_dq thresholds)")
    common(p)
    p.add_argument("--env", required=True)
    acks(p)
    p.add_argument("--from-env", action="append", default=[], metavar="SRC",
                   help="write wap_ENV from SQLMesh state over SRC's snapshot set (a pin of this digest) without "
                        "loading the project; falls back to loading it when that is no virtual update")

    p = sub.add_parser("contracts", help="enforced dbt contracts in wap_ENV: columns, order, types, constraints; "
                                         "breaking changes against what ENV serves (--ack MODEL[:contract])")
    common(p)
    p.add_argument("--env", required=True)
    acks(p)

    p = sub.add_parser("freshness", help="bronze tables upstream of the models changed in ENV arrived within SLA")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--catalog", type=Path, required=True, help="pipeline catalog folder (pipelines/catalog)")

    p = sub.add_parser("verify", help="tables + audits of ENV as built from the project; optional pins")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--pin", metavar="NAME")
    p.add_argument("--unpin", action="append", default=[], metavar="NAME")

    p = sub.add_parser("audit", help="run every SQLMesh audit (schema + singular tests) explicitly")
    common(p, warehouse=False)
    p.add_argument("--scratch", action="store_true", help="build into a throw-away warehouse first")

    p = sub.add_parser("unit-test", help="dbt unit tests with dbt-core on a scratch DuckDB")
    p.add_argument("--project", type=Path, required=True)

    p = sub.add_parser("tables", help="row count + checksum per model as ENV sees it")
    common(p)
    p.add_argument("--env", required=True)

    for verb, helptext in (("pin", "keep the project's snapshots alive as env keep_NAME"),
                           ("unpin", "release a pin (janitor may then remove snapshots)")):
        p = sub.add_parser(verb, help=helptext)
        common(p)
        p.add_argument("--name", required=True)

    p = sub.add_parser("envs", help="list SQLMesh environments")
    common(p)

    p = sub.add_parser("serving", help="which candidate pin's snapshot set ENV serves, from SQLMesh state (no "
                                       "project load)")
    common(p)
    p.add_argument("--env", required=True)
    p.add_argument("--candidate", action="append", default=[], metavar="SHA=PIN_ENV",
                   help="a digest and the pin environment holding its verified snapshot set (repeatable; the first "
                        "exact match wins)")

    p = sub.add_parser("janitor", help="run the SQLMesh janitor")
    common(p)
    p.add_argument("--ignore-ttl", action="store_true")
    return parser


def parse_options(argv: Sequence[str]) -> WarehouseOptions:
    """argv -> the frozen, resolved options record (usage errors raise UsageError: exit 2)."""
    ns = build_parser().parse_args(list(argv))
    opts = WarehouseOptions(
        command=ns.command, project=ns.project, warehouse=getattr(ns, "warehouse", None),
        state=getattr(ns, "state", None), state_url=getattr(ns, "state_url", None),
        target=getattr(ns, "target", "duckdb"), env=getattr(ns, "env", None), apply=getattr(ns, "apply", False),
        acks=tuple(getattr(ns, "ack", ())), virtual_only=getattr(ns, "virtual_only", False),
        verify=getattr(ns, "verify", False), pin=getattr(ns, "pin", None), unpin=tuple(getattr(ns, "unpin", ())),
        scratch=getattr(ns, "scratch", False), ignore_ttl=getattr(ns, "ignore_ttl", False),
        name=getattr(ns, "name", None), catalog=getattr(ns, "catalog", None),
        from_envs=tuple(getattr(ns, "from_env", ())), state_only=getattr(ns, "state_only", False),
        candidates=tuple(getattr(ns, "candidate", ())))
    return opts.resolved()


def handle(argv: list[str]) -> Outcome:
    opts = parse_options(argv)
    return HANDLERS[opts.command](opts)


def main(argv: Sequence[str] | None = None) -> int:
    """One JSON object on stdout (``northstar_contracts.harness``); exit 0 ok / 1 problems / 2 usage."""
    hermetic_env()
    return run_entrypoint(handle, argv)


# What a warm-started process imports before its arguments arrive (northstar_contracts.warm_start): SQLMesh is the
# bulk of every state-only command's start (1.5-2.5 s); the project's own modules are already imported above.
PRELOAD = ("sqlmesh",)


def console_main() -> None:
    """The PEX entry point: :func:`main` (or, started warm, :func:`main` on the arguments read from stdin), then
    :func:`~northstar_contracts.harness.exit_now` (no interpreter teardown)."""
    console(main, preload=PRELOAD)


if __name__ == "__main__":
    console_main()
