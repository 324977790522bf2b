"""The data-quality diff against a real DuckDB warehouse, through the real CLI (click runner, same process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner  # pants: no-infer-dep (installed by dbt-core, see dbt/BUILD)

from northstar_dq.cli import main
from northstar_dq.diff import MASK, diff_tables
from northstar_dq.tests.conftest import MARTS_SCHEMA, sql
from northstar_dq.thresholds import LAYER_DEFAULTS, load_model_spec


def run(warehouse: Path, project: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    args = ["diff", "--warehouse", str(warehouse), "--prod-schema", "prod", "--candidate-schema", "dev",
            "--model", "fct_orders", "--key", "order_id", "--project", str(project), "--json", *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, json.loads(result.stdout), result.stderr


def check(verdict: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in verdict["checks"] if c["check"] == name)


def test_identical_tables_pass(warehouse: Path, project: Path) -> None:
    code, v, _ = run(warehouse, project)
    assert code == 0 and v["status"] == "pass"
    assert v["stats"]["rows_added"] == v["stats"]["rows_removed"] == v["stats"]["rows_changed"] == 0
    assert v["stats"]["sample"] == []


def test_95_percent_row_drop_is_blocked_with_row_count_evidence(warehouse: Path, project: Path) -> None:
    sql(warehouse, "DELETE FROM dev.fct_orders WHERE order_id > 50")
    code, v, _ = run(warehouse, project)
    assert code == 1 and v["status"] == "blocked"
    rc = check(v, "row_count_delta")
    assert rc["status"] == "fail" and rc["observed"] == 95.0 and rc["threshold"] == 10.0
    assert "fct_orders" in rc["reason"] and "1000 -> 50" in rc["reason"]
    assert check(v, "rows_removed")["status"] == "fail"
    assert v["stats"]["prod_rows"] == 1000 and v["stats"]["candidate_rows"] == 50 and v["stats"]["rows_removed"] == 950


def test_acknowledged_drop_passes_and_is_recorded(warehouse: Path, project: Path) -> None:
    sql(warehouse, "DELETE FROM dev.fct_orders WHERE order_id > 50")
    code, v, _ = run(warehouse, project, "--ack", "fct_orders:row_count_delta", "--ack", "fct_orders:rows_removed")
    assert code == 0 and v["status"] == "pass"
    assert check(v, "row_count_delta")["status"] == "acknowledged"
    assert check(v, "row_count_delta")["observed"] == 95.0  # the evidence stays
    assert {(a["model"], a["check"]) for a in v["acknowledgements"]} == {("fct_orders", "row_count_delta"), ("fct_orders", "rows_removed")}


def test_ack_of_another_check_does_not_let_the_drop_through(warehouse: Path, project: Path) -> None:
    sql(warehouse, "DELETE FROM dev.fct_orders WHERE order_id > 50")
    code, v, _ = run(warehouse, project, "--ack", "fct_orders:row_count_delta", "--ack", "other_model:rows_removed")
    assert code == 1 and check(v, "rows_removed")["status"] == "fail"
    assert [a["check"] for a in v["acknowledgements"]] == ["row_count_delta"]


def test_duplicated_key_fails_uniqueness(warehouse: Path, project: Path) -> None:
    sql(warehouse, "INSERT INTO dev.fct_orders SELECT * FROM dev.fct_orders WHERE order_id IN (7, 8)")
    code, v, _ = run(warehouse, project)
    assert code == 1
    uk = check(v, "unique_key")
    assert uk["status"] == "fail" and uk["observed"] == 2
    assert v["stats"]["candidate_duplicate_keys"] == 2 and v["stats"]["candidate_null_keys"] == 0


def test_changed_value_shows_as_changed_with_masked_sample(warehouse: Path, project: Path) -> None:
    sql(warehouse, "UPDATE dev.fct_orders SET amount = amount + 1, email = 'x@example.com' WHERE order_id = 42")
    code, v, _ = run(warehouse, project)
    assert code == 0  # 0.1 % changed is under the 50 % threshold declared in meta
    s = v["stats"]
    assert (s["rows_added"], s["rows_removed"], s["rows_changed"]) == (0, 0, 1)
    (row,) = s["sample"]
    assert row["status"] == "changed" and row["key"] == {"order_id": 42}
    assert set(row["changed_columns"]) == {"amount", "email"}
    assert row["prod"]["amount"] == "63.00" and row["candidate"]["amount"] == "64.00"
    assert row["prod"]["email"] == MASK and row["candidate"]["email"] == MASK
    assert "example.com" not in json.dumps(s["sample"])


def test_added_removed_changed_and_null_rate(warehouse: Path, project: Path) -> None:
    sql(warehouse, """
        DELETE FROM dev.fct_orders WHERE order_id <= 20;
        INSERT INTO dev.fct_orders SELECT i, NULL, 1.00, DATE '2024-02-01' FROM range(2001, 2031) t(i);
        UPDATE dev.fct_orders SET order_date = NULL WHERE order_id BETWEEN 100 AND 149;
    """)
    code, v, _ = run(warehouse, project, "--sample-size", "5")
    s = v["stats"]
    assert (s["rows_added"], s["rows_removed"], s["rows_changed"]) == (30, 20, 50)
    assert len(s["sample"]) == 5 and {r["status"] for r in s["sample"]} == {"added", "removed", "changed"}
    nulls = check(v, "null_rate.order_date")
    assert nulls["status"] == "fail" and nulls["observed"] == round(100 * 50 / 1010, 4)
    assert check(v, "null_rate.email")["status"] == "fail"  # 30 new rows with a null email
    assert code == 1


def test_sample_never_exceeds_n(warehouse: Path, project: Path) -> None:
    sql(warehouse, "UPDATE dev.fct_orders SET amount = 0")
    con = duckdb.connect(str(warehouse), read_only=True)
    stats = diff_tables(con, "prod", "dev", "fct_orders", ["order_id"], sample_size=7)
    assert stats.rows_changed == 1000 and len(stats.sample) == 7
    assert diff_tables(con, "prod", "dev", "fct_orders", ["order_id"], sample_size=0).sample == ()


def test_thresholds_layer_defaults_folder_meta_and_model_meta(project: Path) -> None:
    mart = load_model_spec(project, "fct_orders")
    assert mart.layer == "marts" and mart.thresholds.max_rows_changed_pct == 50
    assert mart.thresholds.max_rows_removed_pct == LAYER_DEFAULTS["marts"]["max_rows_removed_pct"]
    assert mart.pii_columns == frozenset({"email"})
    stg = load_model_spec(project, "stg_orders")
    assert stg.layer == "staging" and stg.thresholds.max_rows_removed_pct == 12
    assert stg.thresholds.max_row_count_delta_pct == LAYER_DEFAULTS["staging"]["max_row_count_delta_pct"]


def test_bad_input_exits_2_and_names_the_problem(warehouse: Path, project: Path) -> None:
    code, v, err = run(warehouse, project, "--candidate-schema", "nope")
    assert code == 2 and v["status"] == "error" and "nope.fct_orders" in v["error"]
    schema = project / "models" / "marts" / "schema.yml"
    schema.write_text(schema.read_text().replace("max_rows_changed_pct", "max_rows_chnged_pct"))
    code, v, err = run(warehouse, project)
    assert code == 2 and "max_rows_chnged_pct" in v["error"] and str(schema) in v["error"]
    schema.write_text(MARTS_SCHEMA)
    code, v, err = run(warehouse, project, "--ack", "fct_orders:not_a_check")
    assert code == 2 and "not_a_check" in v["error"]
    code, v, err = run(warehouse.with_name("missing.duckdb"), project)
    assert code == 2 and "missing.duckdb" in err


def test_the_warehouse_is_not_modified(warehouse: Path, project: Path) -> None:
    before = warehouse.read_bytes()
    run(warehouse, project)
    assert warehouse.read_bytes() == before


def test_repo_dbt_project_thresholds_load() -> None:
    """The real project in dbt/ resolves thresholds for its marts (no meta yet: layer defaults)."""
    spec = load_model_spec(Path(__file__).resolve().parents[2], "fct_daily_revenue")
    assert spec.layer == "marts"
