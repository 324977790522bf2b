"""Column-level lineage (sqlglot) and consumers on the platform's real files: which columns a model, a DAG's SQL or a
staging model reading a Spark job's bronze table actually uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_lineage.columns import sql_strings, used_columns
from northstar_lineage.consumers import ConsumerIndex
from northstar_lineage.graph import build_lineage, relevant_file
from northstar_lineage.render import RenderError, render_model
from northstar_lineage.spark_outputs import spark_outputs

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def index() -> ConsumerIndex:
    files = [str(p.relative_to(REPO)) for folder in ("dbt", "pipelines/catalog", "airflow/dags", "spark")
             for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    contents = {f: (REPO / f).read_text() for f in files if relevant_file(f)}
    dags = [f for f in files if f.startswith("airflow/dags/") and f.endswith(".py")]
    return ConsumerIndex(build_lineage(contents, files), contents, lambda p: (REPO / p).read_text(), dags)


def test_star_in_a_cte_counts_only_the_columns_the_query_keeps() -> None:
    # stg_kafka__pos_transactions: `select *, row_number() ...` in a CTE, then picks columns; _kafka_partition unused.
    sql = render_model((REPO / "dbt/models/staging/kafka/stg_kafka__pos_transactions.sql").read_text(), "x.sql",
                       {("kafka", "pos_transactions"): "bronze.kafka__pos_transactions"})
    cols = {c: "varchar" for c in ("transaction_id", "store_id", "register_id", "employee_id", "product_id",
                                   "quantity", "unit_price", "payment_method", "transacted_at", "_ingested_at",
                                   "_kafka_partition", "_kafka_offset")}
    used = used_columns(sql, "bronze.kafka__pos_transactions", cols)
    assert used is not None and "_kafka_partition" not in used
    assert {"transaction_id", "_kafka_offset", "unit_price"} <= used  # picked, and the dedup window's order column


def test_join_filter_and_star_cases() -> None:
    cols = {"a": "int", "b": "int", "c": "int"}
    assert used_columns("select d.a from t d where d.b > 1", "t", cols) == {"a", "b"}
    assert used_columns("select * from s.t", "s.t", cols) == {"a", "b", "c"}
    assert used_columns("select count(*) from t join u on t.c = u.id", "t", cols) == {"c"}
    assert used_columns("select a from other", "t", cols) == set()
    assert used_columns("select from where", "t", cols) is None  # unparsable: the caller counts every column


def test_sql_strings_of_a_dag_file() -> None:
    source = 'SQL = """\nselect campaign_id\nfrom analytics.dim_campaigns\n"""\nOTHER = "not sql: select from"\n'
    assert sql_strings(source) == ["select campaign_id\nfrom analytics.dim_campaigns"]


def test_render_refuses_unknown_jinja_naming_the_file() -> None:
    with pytest.raises(RenderError, match="m.sql: cannot render"):
        render_model("select {{ unknown_macro() }}", "m.sql", {})


def test_model_consumers_name_the_columns_they_use(index: ConsumerIndex) -> None:
    cols = {c: "x" for c in ("campaign_id", "campaign_name", "channel", "objective", "starts_on", "ends_on",
                             "budget", "flight_days")}
    consumers = {c.name: c for c in index.model_consumers("dim_campaigns", cols)}
    pacing = consumers["fct_campaign_budget_pacing"]
    assert pacing.kind == "model" and pacing.columns == ("budget", "campaign_id", "flight_days", "starts_on")
    assert pacing.uses("budget") and not pacing.uses("campaign_name")


def test_spark_outputs_and_their_source_consumers(index: ConsumerIndex) -> None:
    outputs = {o.relation: o for o in spark_outputs(index.contents)}
    stores = outputs["bronze.retail_oltp__stores"]
    assert stores.job == "ingest_retail_oltp_cdc"
    assert [c for c, _ in stores.columns][-2:] == ["_ingested_at", "_source_file"]
    assert dict(stores.columns)["floor_area_m2"] == "int"
    (consumer,) = index.source_consumers(stores.relation, dict(stores.columns))
    assert consumer.name == "stg_retail_oltp__stores" and consumer.columns is not None
    assert "region" in consumer.columns and "_source_file" not in consumer.columns
    assert outputs["bronze.kafka__order_events"].topic == "orders.order_events.v1"
