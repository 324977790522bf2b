"""Run the real dbt project through SQLMesh on DuckDB: prod build, data checks and change categorization.

Why these tests: the release engine relies on SQLMesh (a) building prod correctly from the dbt project and
(b) classifying changes (NON_BREAKING changes are promoted without rebuilding downstream, BREAKING ones
rebuild). If a SQLMesh/dbt upgrade or a config edit changes either, these fail.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmesh import Context
from sqlmesh.core.model.kind import IncrementalByUniqueKeyKind
from sqlmesh.core.plan import Plan
from sqlmesh.core.snapshot import SnapshotChangeCategory

from northstar_dbt.project import PROJECT_DIR, copy_project, engine_env

MART = "fct_daily_revenue"
RECOGNIZED = {"shipped", "completed"}


@dataclass(frozen=True)
class Applied:
    """A project copy whose prod environment has been planned and applied."""

    root: Path
    project: Path
    context: Context


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    root = tmp_path_factory.mktemp("sqlmesh")
    project = copy_project(root / "project")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in engine_env(root / "warehouse.duckdb", root / "state.duckdb").items():
            mp.setenv(key, value)
        context = Context(paths=str(project))
        context.plan("prod", auto_apply=True, no_prompts=True)
        yield Applied(root=root, project=project, context=context)


def expected_daily_revenue() -> dict[str, tuple[int, Decimal]]:
    """Independent oracle computed from the seed CSVs in plain Python (not SQL)."""
    seeds = PROJECT_DIR / "seeds"
    with open(seeds / "raw_orders.csv", newline="") as f:
        orders = {row["id"]: row for row in csv.DictReader(f) if row["status"] in RECOGNIZED}
    paid: dict[str, Decimal] = defaultdict(Decimal)
    with open(seeds / "raw_payments.csv", newline="") as f:
        for row in csv.DictReader(f):
            paid[row["order_id"]] += Decimal(row["amount"]) / 100
    result: dict[str, tuple[int, Decimal]] = {}
    for order_id, order in orders.items():
        count, revenue = result.get(order["order_date"], (0, Decimal("0")))
        result[order["order_date"]] = (count + 1, revenue + paid[order_id])
    return result


def expected_all_orders_revenue() -> list[tuple[str, Decimal]]:
    """Paid amount per order id (all statuses), from the payments seed."""
    with open(PROJECT_DIR / "seeds" / "raw_payments.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [(row["order_id"], Decimal(row["amount"]) / 100) for row in rows]


def test_prod_mart_matches_seeds(applied: Applied) -> None:
    df = applied.context.fetchdf(f"select * from analytics.{MART} order by order_date")
    assert list(df.columns) == ["order_date", "order_count", "revenue"]
    actual = {
        str(row.order_date.date() if hasattr(row.order_date, "date") else row.order_date): (
            int(row.order_count),
            Decimal(str(row.revenue)).quantize(Decimal("0.01")),
        )
        for row in df.itertuples()
    }
    expected = expected_daily_revenue()
    assert actual == expected
    assert len(actual) == 5
    assert actual["2024-01-01"] == (3, Decimal("191.49"))


def test_incremental_model_is_not_forward_only(applied: Applied) -> None:
    # dbt incremental models default to forward-only in SQLMesh; dbt_project.yml opts the project out.
    kind = applied.context.get_model("analytics.fct_orders").kind
    assert isinstance(kind, IncrementalByUniqueKeyKind)
    assert kind.forward_only is False
    totals = applied.context.fetchdf("select count(*) as n, sum(amount) as total from analytics.fct_orders")
    assert int(totals["n"][0]) == 30
    expected_total = sum(revenue for _, revenue in expected_all_orders_revenue())
    assert Decimal(str(totals["total"][0])).quantize(Decimal("0.01")) == expected_total


def test_seeds_loaded_with_dozens_of_rows(applied: Applied) -> None:
    counts = {
        name: int(applied.context.fetchdf(f"select count(*) as n from analytics.{name}")["n"][0])
        for name in ("raw_orders", "raw_customers", "raw_payments")
    }
    assert counts == {"raw_orders": 30, "raw_customers": 12, "raw_payments": 34}


def test_all_audits_pass_including_singular_test(applied: Applied) -> None:
    # Standalone (singular) audits only warn during plan, so check them explicitly.
    assert applied.context.audit(start="2024-01-01", end="2024-01-05") is True


def _edit_mart(project: Path, old: str, new: str) -> None:
    path = project / "models" / "marts" / f"{MART}.sql"
    text = path.read_text()
    assert old in text, f"fixture edit no longer applies: {old!r}"
    path.write_text(text.replace(old, new, 1))


def _mart_category(plan: Plan) -> SnapshotChangeCategory | None:
    (mart_id,) = (s_id for s_id in plan.directly_modified if re.search(rf"\b{MART}\b", s_id.name))
    return plan.snapshots[mart_id].change_category


def _changed_copy(applied: Applied, name: str) -> Path:
    return copy_project(applied.root / name, source=applied.project)


def test_added_column_is_non_breaking_and_promotable(applied: Applied) -> None:
    project = _changed_copy(applied, "add_column")
    _edit_mart(
        project,
        "as revenue\n",
        "as revenue,\n    cast(coalesce(sum(p.amount), 0) / count(*) as decimal(18, 2)) as avg_order_value\n",
    )
    context = Context(paths=str(project))
    plan = context.plan_builder("pr_add_column").build()
    assert _mart_category(plan) == SnapshotChangeCategory.NON_BREAKING
    context.apply(plan)

    dev_columns = list(context.fetchdf(f"select * from analytics__pr_add_column.{MART} limit 1").columns)
    prod_columns = list(context.fetchdf(f"select * from analytics.{MART} limit 1").columns)
    assert dev_columns == ["order_date", "order_count", "revenue", "avg_order_value"]
    assert prod_columns == ["order_date", "order_count", "revenue"]

    # Promotion to prod reuses the tables built for the PR environment: a virtual update, no backfill.
    # With the init template's virtual_environment_mode=dev_only the prod plan would be forward-only instead
    # (no virtual promotion). Not applied, so prod stays as the other tests expect.
    promotion = context.plan_builder("prod").build()
    assert promotion.has_changes
    assert promotion.forward_only is False
    assert not promotion.new_snapshots
    assert not promotion.requires_backfill


def test_changed_filter_is_breaking(applied: Applied) -> None:
    project = _changed_copy(applied, "change_filter")
    _edit_mart(project, "where status in ('shipped', 'completed')", "where status = 'completed'")
    plan = Context(paths=str(project)).plan_builder("pr_change_filter").build()
    assert _mart_category(plan) == SnapshotChangeCategory.BREAKING


def test_unchanged_project_has_no_changes(applied: Applied) -> None:
    # Guard for the two tests above: a plain copy must not be seen as modified.
    plan = Context(paths=str(_changed_copy(applied, "unchanged"))).plan_builder("prod").build()
    assert not plan.directly_modified
    assert os.environ["NORTHSTAR_SQLMESH_STATE_PATH"].startswith(str(applied.root))


def test_retail_warehouse_built_from_bronze(applied: Applied) -> None:
    # 200+ models from the bronze layer that config.py loaded into the fresh warehouse; the figures are checked
    # against the bronze rows, not against themselves.
    assert len(applied.context.models) >= 200
    fetch = applied.context.fetchdf
    bronze_orders = int(fetch("select count(*) as n from bronze.retail_oltp__orders")["n"][0])
    assert bronze_orders > 0
    assert int(fetch("select count(*) as n from analytics.fct_sales_orders")["n"][0]) == bronze_orders
    recognition = fetch("select recognition_status as s, count(*) as n from analytics.fct_revenue_recognition group by 1")
    assert set(recognition["s"]) <= {"recognized", "deferred", "not_recognized"}
    assert int(recognition["n"].sum()) == bronze_orders
    cancelled = int(fetch("select count(*) as n from bronze.retail_oltp__orders where order_status in ('cancelled', 'pending')")["n"][0])
    not_recognized = fetch("select count(*) as n from analytics.fct_revenue_recognition where recognition_status = 'not_recognized'")
    assert int(not_recognized["n"][0]) == cancelled
    balance = fetch("select sum(total_debit) - sum(total_credit) as d from analytics.fct_gl_trial_balance")
    assert Decimal(str(balance["d"][0])) == 0
