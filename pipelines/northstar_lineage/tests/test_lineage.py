"""Lineage on the platform's real files (214 dbt models, the catalog, 38 DAGs, 20 Spark jobs): what a one-line change
to a staging model, a macro, a Spark job or a topic schema reaches, and nothing else.

The expected sets are checked two ways: against the names a reviewer reads off the files, and against an independent
oracle (plain substring search for `ref('name')` over every model) so "nothing unrelated" is not just our own output
echoed back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from northstar_lineage.dbt_parse import LineageParseError, parse_template
from northstar_lineage.graph import Lineage, build_lineage, relevant_file

REPO = Path(__file__).resolve().parents[3]
ROOTS = ("dbt", "pipelines/catalog", "airflow/dags", "spark/northstar_spark/jobs")
STG_SHIPMENTS = "dbt/models/staging/retail_oltp/stg_retail_oltp__shipments.sql"
HELPERS = "dbt/dbt_packages/northstar_utils/macros/helpers.sql"


def _repo_files() -> list[str]:
    out = []
    for root in ROOTS:
        for folder, _dirs, names in os.walk(REPO / root):
            out += [str((Path(folder) / n).relative_to(REPO)) for n in names]
    return sorted(out)


@pytest.fixture(scope="module")
def lineage() -> Lineage:
    files = _repo_files()
    assert sum(f.startswith("dbt/models/") and f.endswith(".sql") for f in files) == 214
    return build_lineage({f: (REPO / f).read_text() for f in files if relevant_file(f)}, files)


def _names(lineage: Lineage, paths: object, kind: str) -> set[str]:
    return {lineage.nodes[p].name for p in paths if lineage.nodes[p].kind == kind}  # type: ignore[attr-defined]


def _oracle_downstream_models(start: str) -> set[str]:
    """Models reached from model ``start`` by substring search for ref('x') / ref("x") -- independent of Jinja."""
    sql = {p.stem: p.read_text() for p in (REPO / "dbt" / "models").rglob("*.sql")}
    reached, frontier = set(), {start}
    while frontier:
        nxt = {m for m, text in sql.items() for parent in frontier
               if (f"ref('{parent}')" in text or f'ref("{parent}")' in text) and m not in reached}
        reached |= nxt
        frontier = nxt
    return reached


def test_one_line_staging_change_reaches_exactly_its_downstream_models_dags_and_tests(lineage: Lineage) -> None:
    reached = lineage.dependents([STG_SHIPMENTS])
    models = _names(lineage, reached, "model") - {"stg_retail_oltp__shipments"}
    assert models == {
        "int_shipments__delivery", "int_revenue__order_recognition", "fct_shipments", "fct_carrier_performance",
        "fct_web_orders", "fct_warehouse_fulfilment", "fct_revenue_recognition", "fct_deferred_revenue",
        "fct_recognized_revenue_daily", "fct_recognized_revenue_monthly"}
    assert models == _oracle_downstream_models("stg_retail_oltp__shipments")
    # The DAGs that run it and the finance marts downstream (catalog dbt_selector), nothing else.
    assert _names(lineage, reached, "dag") == {"transform_staging_retail_oltp", "transform_finance_marts"}
    # Tests: the YAML files whose tests/unit tests cover a reached model.
    assert {p for p in reached if lineage.nodes[p].kind == "yaml"} == {
        "dbt/models/staging/retail_oltp/_retail_oltp__models.yml", "dbt/models/marts/finance/_finance__unit_tests.yml",
        "dbt/models/marts/finance/_finance__models.yml", "dbt/models/marts/sales/_sales__models.yml",
        "dbt/models/marts/inventory/_inventory__models.yml"}
    assert not _names(lineage, reached, "spark_job") and not _names(lineage, reached, "schema")
    # Policy: the model is not finance itself, but it feeds finance marts.
    assert "finance" not in lineage.nodes[STG_SHIPMENTS].tags
    assert "finance" in lineage.nodes["dbt/models/marts/finance/fct_revenue_recognition.sql"].tags


def test_macro_change_reaches_exactly_the_models_that_call_it(lineage: Lineage) -> None:
    direct = {p for p, n in lineage.nodes.items() if HELPERS in n.deps}
    callers = {str(p.relative_to(REPO)) for p in (REPO / "dbt" / "models").rglob("*.sql")
               if "northstar_utils.safe_divide(" in p.read_text() or "northstar_utils.usd(" in p.read_text()}
    assert direct == callers and len(callers) == 21
    reached = lineage.dependents([HELPERS])
    untouched = "dbt/models/intermediate/calendar/int_calendar__dates.sql"
    assert untouched not in reached and len(_names(lineage, reached, "model")) < 214


def test_generic_test_macro_reaches_the_yaml_that_uses_it(lineage: Lineage) -> None:
    reached = lineage.dependents(["dbt/dbt_packages/northstar_utils/macros/generic_tests.sql"])
    assert reached and all(lineage.nodes[p].kind in ("yaml", "macro") for p in reached)


def test_sources_depend_on_the_spark_job_and_schema_that_write_them(lineage: Lineage) -> None:
    orders = lineage.nodes["dbt/models/staging/retail_oltp/stg_retail_oltp__orders.sql"].deps
    assert "spark/northstar_spark/jobs/ingest_retail_oltp_cdc.py" in orders
    assert "dbt/models/staging/retail_oltp/_retail_oltp__sources.yml" in orders
    events = lineage.nodes["dbt/models/staging/kafka/stg_kafka__order_events.sql"].deps
    assert {"spark/northstar_spark/jobs/stream_order_events.py",
            "pipelines/catalog/schemas/orders.order_events.v1/v1.avsc"} <= events
    # A DAG depends on the models, jobs and schemas its catalog pipelines run.
    supervisor = lineage.nodes["airflow/dags/generated/stream_order_events_supervisor.py"]
    assert {"spark/northstar_spark/jobs/stream_order_events.py",
            "pipelines/catalog/schemas/orders.order_events.v1/v1.avsc"} <= supervisor.deps
    assert "finance" in supervisor.tags


def test_spark_job_change_reaches_the_staging_models_of_its_bronze_tables(lineage: Lineage) -> None:
    reached = lineage.dependents(["spark/northstar_spark/jobs/ingest_exchange_rates.py"])
    assert "stg_s3__exchange_rates" in _names(lineage, reached, "model")
    assert "stg_retail_oltp__orders" not in _names(lineage, reached, "model")


def test_jinja_is_parsed_not_pattern_matched() -> None:
    text = """{# ref('commented_out') #}
    {% set cols = ['a'] %}
    select '{{ "ref(\\'in_a_string\\')" }}' as s, {{ northstar_utils.usd('x', 'r') }}
    from {{ ref(
        'split_over_lines') }} join {{ ref('pkg', 'two_arg') }} join {{ source('s', 't') }}
    {% if is_incremental() %} where x > (select max(x) from {{ this }}) {% endif %}
    {{ config(tags=['finance', 'x']) }}"""
    refs = parse_template(text, "models/x.sql")
    assert refs.refs == [(None, "split_over_lines"), ("pkg", "two_arg")]
    assert refs.sources == [("s", "t")]
    assert ("northstar_utils", "usd") in refs.macro_calls and refs.config_tags == ["finance", "x"]


def test_bad_jinja_names_the_file_and_line() -> None:
    with pytest.raises(LineageParseError, match=r"models/bad.sql:2: dbt Jinja does not parse"):
        parse_template("select 1\nfrom {{ ref('x' }}", "models/bad.sql")
