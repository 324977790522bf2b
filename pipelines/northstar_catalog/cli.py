"""``python -m northstar_catalog``: validate, list and show the pipeline catalog; generate the Airflow DAGs.

Exit codes: 0 ok, 1 invalid catalog or stale generated files, 2 bad usage (unknown id, bad option).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from northstar_catalog import dagcodegen
from northstar_catalog.loader import Catalog, Entry, find_root, load_catalog
from northstar_catalog.problems import CatalogError


def _load(root: Path | None, as_json: bool) -> Catalog:
    try:
        return load_catalog(root or find_root())
    except CatalogError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "problems": [p.as_dict() for p in exc.problems]}, indent=2))
        else:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"catalog invalid: {len(exc.problems)} problem(s)", err=True)
        sys.exit(1)


def _summary(entry: Entry) -> dict[str, Any]:
    p = entry.pipeline
    data: dict[str, Any] = p.model_dump(mode="json", exclude_none=True)
    data["source"] = {k: v for k, v in data["source"].items() if v}
    data.update(domain=entry.domain, file=entry.file, line=entry.line)
    return data


@click.group(help="Northstar pipeline catalog (pipelines/catalog): validate, inspect, generate DAGs.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="repository root (default: found from the current directory upwards)")
@click.pass_context
def main(ctx: click.Context, root: Path | None) -> None:
    ctx.obj = root


@main.command(help="Load and cross-check the whole catalog; print every problem with file, key, line and rule.")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.pass_obj
def validate(root: Path | None, as_json: bool) -> None:
    catalog = _load(root, as_json)
    kinds: dict[str, int] = {}
    for entry in catalog.pipelines.values():
        kinds[entry.pipeline.kind.value] = kinds.get(entry.pipeline.kind.value, 0) + 1
    by_kind = dict(sorted(kinds.items()))
    generated = sum(d.generated for d in catalog.dags.values())
    result = {"valid": True, "pipelines": len(catalog.pipelines), "dags": len(catalog.dags), "by_kind": by_kind,
              "generated_dags": generated}
    click.echo(json.dumps(result, indent=2) if as_json else
               f"catalog valid: {len(catalog.pipelines)} pipelines ({', '.join(f'{k} {v}' for k, v in by_kind.items())}), "
               f"{len(catalog.dags)} DAGs ({generated} generated)")


@main.command(name="list", help="List pipelines, optionally filtered.")
@click.option("--kind", type=click.Choice(["batch_ingest", "streaming_ingest", "transform", "export"]))
@click.option("--domain")
@click.option("--tag", type=click.Choice(["finance", "pii"]))
@click.option("--dag", "dag_id", help="only pipelines run by this DAG")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(root: Path | None, kind: str | None, domain: str | None, tag: str | None, dag_id: str | None, as_json: bool) -> None:
    catalog = _load(root, as_json)
    rows = [e for _, e in sorted(catalog.pipelines.items())
            if (kind is None or e.pipeline.kind.value == kind) and (domain is None or e.domain == domain)
            and (tag is None or tag in e.pipeline.tag_names) and (dag_id is None or e.pipeline.runs.dag == dag_id)]
    if as_json:
        click.echo(json.dumps([_summary(e) for e in rows], indent=2))
        return
    for e in rows:
        p = e.pipeline
        click.echo(f"{p.id:48} {p.kind.value:17} {e.domain:13} {p.runs.dag:40} {','.join(p.tag_names)}")
    click.echo(f"{len(rows)} pipeline(s)")


@main.command(help="Show one pipeline (or DAG) by id.")
@click.argument("item_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(root: Path | None, item_id: str, as_json: bool) -> None:
    catalog = _load(root, as_json)
    if item_id in catalog.pipelines:
        data = _summary(catalog.pipelines[item_id])
        data["downstream"] = sorted(pid for pid, e in catalog.pipelines.items() if item_id in (e.pipeline.source.upstream or ()))
    elif item_id in catalog.dags:
        dag = catalog.dags[item_id]
        data = {**dag.model_dump(mode="json", exclude_none=True), "tags": dagcodegen.dag_tags(catalog, dag),
                "pipelines": sorted(p.id for p in catalog.pipelines_of_dag(item_id))}
    else:
        click.echo(f"error: no pipeline or DAG with id '{item_id}' (try: python -m northstar_catalog list)", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            click.echo(f"{key:12} {value}")


@main.command(name="gen-dags", help="Write airflow/dags/generated/*.py and airflow/dags/BUILD from the catalog.")
@click.option("--check", is_flag=True, help="write nothing; exit 1 if any generated file is stale")
@click.pass_obj
def gen_dags(root: Path | None, check: bool) -> None:
    catalog = _load(root, False)
    if check:
        stale = dagcodegen.stale_files(catalog)
        for path in stale:
            click.echo(f"stale: {path}", err=True)
        if stale:
            click.echo("generated DAG files are stale: run `python -m northstar_catalog gen-dags`", err=True)
            sys.exit(1)
        click.echo("generated DAG files are up to date")
        return
    changed = dagcodegen.write_all(catalog)
    click.echo(f"{len(changed)} file(s) written" + "".join(f"\n  {c}" for c in changed))
