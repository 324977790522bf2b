"""A model's key comes from the tests its schema YAML declares (column ``unique`` or a unique combination)."""

from __future__ import annotations

from pathlib import Path

from northstar_dq.keys import key_from_entry, model_key

REPO_DBT = Path(__file__).resolve().parents[2]


def test_column_with_unique_test_is_the_key() -> None:
    entry = {"name": "m", "columns": [{"name": "a", "data_tests": ["not_null"]},
                                      {"name": "b", "tests": ["not_null", "unique"]}]}
    assert key_from_entry(entry) == ("b",)


def test_unique_combination_wins_and_accepts_the_arguments_form() -> None:
    entry = {"name": "m", "data_tests": [{"dbt_utils.unique_combination_of_columns": {
        "arguments": {"combination_of_columns": ["d", "store_id"]}}}],
        "columns": [{"name": "x", "data_tests": ["unique"]}]}
    assert key_from_entry(entry) == ("d", "store_id")
    legacy = {"name": "m", "tests": [{"unique_combination_of_columns": {"combination_of_columns": ["a", "b"]}}]}
    assert key_from_entry(legacy) == ("a", "b")


def test_no_declared_key() -> None:
    assert key_from_entry({"name": "m", "columns": [{"name": "a", "data_tests": ["not_null"]}]}) == ()


def test_repo_project_keys() -> None:
    assert model_key(REPO_DBT, "fct_orders") == ("order_id",)
    assert model_key(REPO_DBT, "no_such_model") == ()


def test_package_qualified_combination_test() -> None:
    entry = {"name": "m", "data_tests": [{"northstar_utils.unique_combination_of_columns": {
        "arguments": {"combination_of_columns": ["order_date", "store_id"]}}}]}
    assert key_from_entry(entry) == ("order_date", "store_id")
