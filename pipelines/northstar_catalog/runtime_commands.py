"""Shell commands the generated DAG tasks run, rendered at codegen time into literal strings.

Why shell, resolved when the task runs: a DAG file must parse in milliseconds and must not know which release is
live. Every command looks up the *environment's* artifact pointers at run time:
  * Spark: ``$NORTHSTAR_ENV_DIR/spark/<job>.current`` (JSON ``{job, sha256, pex}`` written atomically by the release
    engine's Spark adapter); the job PEX it names is handed to ``$NORTHSTAR_SPARK_SUBMIT`` (spark-submit on EMR or
    locally, a wrapper that sets PYSPARK_PYTHON to the PEX).
  * Warehouse: ``$NORTHSTAR_ENV_DIR/warehouse/LIVE`` names the digest of the live dbt/SQLMesh project, extracted at
    ``$NORTHSTAR_ENV_DIR/warehouse/<digest>/``; models run with ``sqlmesh run $NORTHSTAR_ENV --select-model``.
Data locations: ``$NORTHSTAR_LANDING`` (raw drops: postgres extracts, kafka landing, s3 feeds) and ``$NORTHSTAR_LAKE``
(bronze/silver tables and streaming checkpoints). The Airflow deployment of each environment sets these variables.
"""

from __future__ import annotations

import re
import shlex

from northstar_catalog.model import Kind, Pipeline
from northstar_catalog.sources import Sources

_READ_POINTER = ("import json,sys; print(json.load(open(sys.argv[1]))[\"pex\"])")
_CHECKPOINT_AGE = ("import os,sys,time; ts=[os.path.getmtime(os.path.join(r,f)) for r,_,fs in os.walk(sys.argv[1]) for f in fs]; "
                   "print(int(time.time()-max(ts)) if ts else 999999)")


def spark_submit(job: str, args: list[str]) -> str:
    return "\n".join([
        "set -eu",
        f'pointer="${{NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}}/spark/{job}.current"',
        f'pex="$NORTHSTAR_ENV_DIR/spark/$(python3 -c {shlex.quote(_READ_POINTER)} "$pointer")"',
        f'echo "{job}: running $pex"',
        'exec ${NORTHSTAR_SPARK_SUBMIT:-spark-submit} "$pex" ' + " ".join(args),
    ])


def sqlmesh_run(selector: str) -> str:
    return "\n".join([
        "set -eu",
        'live="${NORTHSTAR_ENV_DIR:?NORTHSTAR_ENV_DIR is not set}/warehouse"',
        'project="$live/$(cat "$live/LIVE")"',
        'exec ${NORTHSTAR_SQLMESH:-sqlmesh} --paths "$project" run "${NORTHSTAR_ENV:?NORTHSTAR_ENV is not set}" '
        f"--select-model {shlex.quote(sqlmesh_selector(selector))}",
    ])


def sqlmesh_selector(dbt_selector: str) -> str:
    """dbt selection -> SQLMesh model selection: ``tag:x`` stays, a model name matches any schema (``*.name``),
    and dbt's ``+`` graph operators keep their meaning (SQLMesh uses the same syntax)."""
    parts = []
    for token in dbt_selector.split():
        if token.startswith("tag:"):
            parts.append(token)
            continue
        m = re.fullmatch(r"(\+?)([A-Za-z0-9_]+)(\+?)", token)
        if not m:
            raise ValueError(f"dbt selector token '{token}' is not a model name, +model, model+ or tag:x")
        parts.append(f"{m.group(1)}*.{m.group(2)}{m.group(3)}")
    return " ".join(parts)


def _bronze(pipeline: Pipeline) -> str:
    return '"$NORTHSTAR_LAKE/bronze/' + pipeline.sink.removeprefix("bronze.") + '"'


def pipeline_command(pipeline: Pipeline, sources: Sources) -> str:
    """The command of the task that runs ``pipeline``."""
    job = pipeline.runs.spark_job
    src = pipeline.source
    if pipeline.kind == Kind.STREAMING_INGEST and job:
        key = pipeline.sink.removeprefix("bronze.")
        freshness = pipeline.sla.freshness_seconds
        checkpoint = f'"$NORTHSTAR_LAKE/checkpoints/{key}"'
        catch_up = spark_submit(job, [f'--input "$NORTHSTAR_LANDING/kafka/{src.kafka}"', "--output", _bronze(pipeline),
                                      "--checkpoint", checkpoint, "--trigger", "available-now"])
        return "\n".join([
            f"age=$(python3 -c {shlex.quote(_CHECKPOINT_AGE)} {checkpoint}/commits)",
            f'if [ "$age" -le {freshness} ]; then echo "{key}: checkpoint committed $age s ago (SLA {freshness} s)"; exit 0; fi',
            f'echo "{key}: stale ($age s > {freshness} s), catching up"',
            catch_up,
        ])
    if pipeline.kind == Kind.BATCH_INGEST and job:
        if src.postgres:
            table = sources.postgres(src.postgres)
            system = table.system if table else src.postgres.split(".")[0]
            args = [f'--input "$NORTHSTAR_LANDING/postgres/{system}"', "--output", _bronze(pipeline), "--input-format", "csv"]
            if job in ("ingest_retail_oltp_cdc", "ingest_retail_oltp_snapshot", "ingest_finance_erp_snapshot"):
                args += ["--table", src.postgres.split(".", 1)[1]]
        else:
            feed = sources.prefix(src.s3 or "")
            fmt = (feed.file_format if feed else None) or "csv"
            args = [f'--input "$NORTHSTAR_LANDING/s3/{src.s3}/dt={{{{ ds }}}}"', "--output", _bronze(pipeline), "--input-format", fmt]
        return spark_submit(job, args)
    if job:  # Spark transform or export
        lake = f'"$NORTHSTAR_LAKE/{pipeline.sink.replace(".", "/")}"'
        out = f'"{pipeline.sink}dt={{{{ ds }}}}/"' if pipeline.sink.startswith("s3://") else lake
        return spark_submit(job, ['--input "$NORTHSTAR_LAKE"', "--output", out])
    if pipeline.runs.dbt_selector:
        return sqlmesh_run(pipeline.runs.dbt_selector)
    raise ValueError(f"{pipeline.id}: nothing runs it")
