"""CLI: `python -m northstar_dq diff ...`. Exit 0 pass, 1 blocked, 2 bad input; with --json one JSON object on stdout.

Why a CLI: the release engine (tools resolve) must not import DuckDB/SQLMesh; its data-quality gate runs this in the
dbt resolve (a PEX or the exported venv) and reads the JSON verdict, like every other component entry point.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)
import duckdb

from northstar_dq.diff import InputError, diff_tables
from northstar_dq.thresholds import ConfigError, load_model_spec
from northstar_dq.verdict import Acknowledgement, Verdict, evaluate

DEFAULT_PROJECT = Path(__file__).resolve().parents[1]


def _fail(message: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"status": "error", "error": message}))
    click.echo(f"northstar_dq: error: {message}", err=True)
    sys.exit(2)


def _print_human(v: Verdict) -> None:
    s = v.stats
    click.echo(f"{v.model} ({v.layer}): {v.status.upper()}  {s.prod_table} -> {s.candidate_table}  ({s.duration_s:.2f} s)")
    click.echo(f"  rows {s.prod_rows} -> {s.candidate_rows}; added {s.rows_added}, removed {s.rows_removed}, changed {s.rows_changed}")
    for c in v.checks:
        if c.status != "pass" or not c.check.startswith("null_rate."):
            click.echo(f"  [{c.status}] {c.reason}")
    for row in s.sample:
        click.echo(f"  sample {row.status}: key={row.key} changed={list(row.changed_columns)}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Write-audit-publish data-quality checks: compare a candidate table with prod."""


@main.command()
@click.option("--warehouse", required=True, type=click.Path(path_type=Path), help="DuckDB file holding both schemas (opened read-only)")
@click.option("--prod-schema", required=True, help="schema of the prod table")
@click.option("--candidate-schema", required=True, help="schema of the candidate (dev/staging) table")
@click.option("--model", required=True, help="dbt model name (also the table name unless --table/--candidate-table)")
@click.option("--key", "keys", multiple=True, required=True, help="primary-key column (repeat for a composite key)")
@click.option("--table", default=None, help="prod table name if it differs from the model name")
@click.option("--candidate-table", default=None, help="candidate table name if it differs from the prod table name")
@click.option("--project", type=click.Path(path_type=Path), default=DEFAULT_PROJECT, show_default=True,
              help="dbt project folder (thresholds from meta.data_quality, pii column tags)")
@click.option("--ack", "acks", multiple=True, help="acknowledge an intended change: MODEL:CHECK (repeatable)")
@click.option("--sample-size", default=20, show_default=True, type=click.IntRange(0, 1000), help="max differing rows kept as evidence")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object (the verdict) on stdout")
def diff(warehouse: Path, prod_schema: str, candidate_schema: str, model: str, keys: tuple[str, ...], table: str | None,
         candidate_table: str | None, project: Path, acks: tuple[str, ...], sample_size: int, as_json: bool) -> None:
    """Diff MODEL's candidate table against prod and judge it against the model's thresholds."""
    try:
        parsed = [Acknowledgement.parse(a) for a in acks]
        spec = load_model_spec(project, model)
    except (ValueError, ConfigError) as exc:
        _fail(str(exc), as_json)
    if not warehouse.is_file():
        _fail(f"{warehouse}: warehouse file not found", as_json)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        _fail(f"{warehouse}: cannot open read-only ({type(exc).__name__}: {str(exc).splitlines()[0]})", as_json)
    try:
        stats = diff_tables(con, prod_schema, candidate_schema, table or model, keys, sample_size, spec.pii_columns, candidate_table)
    except InputError as exc:
        _fail(f"{warehouse}: {exc}", as_json)
    except duckdb.Error as exc:
        _fail(f"{warehouse}: query failed ({type(exc).__name__}: {str(exc).splitlines()[0]})", as_json)
    finally:
        con.close()
    verdict = evaluate(spec, stats, parsed)
    if as_json:
        click.echo(verdict.model_dump_json())
    else:
        _print_human(verdict)
    sys.exit(0 if verdict.status == "pass" else 1)
