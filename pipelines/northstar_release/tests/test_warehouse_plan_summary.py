"""The warehouse gate's one-line plan summary: counts per change category, a few model names each (the evidence
keeps every model's category)."""

from __future__ import annotations

from northstar_release.adapters.warehouse_results import plan_summary


def test_a_first_release_of_260_models_is_one_short_line() -> None:
    categories = {f"model_{i:03d}": "added" for i in range(260)} | {"fct_orders": "breaking"}
    line = plan_summary(categories)
    assert line == ("1 breaking (fct_orders); 260 added (model_000, model_001, model_002, model_003, model_004, "
                    "model_005, model_006, model_007, ... 252 more)")
    assert len(line) < 200


def test_small_plans_name_every_model_and_no_plan_says_so() -> None:
    assert plan_summary({"b": "non-breaking", "a": "non-breaking"}) == "2 non-breaking (a, b)"
    assert plan_summary({}) == "no changes"
