"""Fast checks on the dbt project's files (no engine): generated code fresh, packages vendored, tags, tests, contracts.

Why: these are the invariants reviewers rely on and that drift silently -- a sources.yaml change without rerunning
the staging generator, packages.yml edited without `dbt deps`, a finance model Pants does not know is finance, a
mart without tests or a public mart without a contract, a project-wide seed type that breaks someone's seed.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shutil
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep  (PyYAML comes with dbt-core in the dbt resolve)

from northstar_dbt import codegen, vendor
from northstar_dbt.project import PROJECT_DIR

MODELS = PROJECT_DIR / "models"
MARTS = MODELS / "marts"
LEGACY_MARTS = {"fct_orders", "fct_daily_revenue"}  # the release demo's pilot marts (see dbt/README.md)


def _yaml_models() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            out[model["name"]] = model
    return out


def _model_names() -> list[str]:
    return sorted(p.stem for p in MODELS.rglob("*.sql"))


def test_generated_staging_is_fresh() -> None:
    assert codegen.stale_files() == [], "run `python -m northstar_dbt.codegen` (from dbt/) and commit the output"


def test_every_catalog_source_has_a_staging_model() -> None:
    _, tables = codegen.load_catalog()
    assert len(tables) == 37
    names = set(_model_names())
    assert {t.model for t in tables} <= names


def test_codegen_rejects_bad_catalog_with_file_key_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("systems:\n  shop:\n    kind: postgres\n    tables:\n      orders: {pk: id, columns: {id: uuid}}\n")
    rule = r"sources\.yaml: systems\.shop\.tables\.orders\.columns\.id: unknown column type 'uuid'"
    with pytest.raises(codegen.CatalogError, match=rule):
        codegen.render_all(bad)
    bad.write_text("systems:\n  shop:\n    kind: postgres\n    tables:\n      orders: {pk: nope, columns: {id: bigint}}\n")
    with pytest.raises(codegen.CatalogError, match=r"systems\.shop\.tables\.orders: needs columns and a pk"):
        codegen.render_all(bad)


def test_vendored_packages_match_lock_and_source() -> None:
    assert vendor.problems() == []
    lock = yaml.safe_load((PROJECT_DIR / "package-lock.yml").read_text())
    assert [p["name"] for p in lock["packages"]] == ["northstar_utils"]


def test_vendor_check_catches_stale_copy_and_changed_packages_yml(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    for name in ("packages.yml", "package-lock.yml", "dbt_project.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "packages", project / "packages")
    shutil.copytree(PROJECT_DIR / "dbt_packages", project / "dbt_packages")
    assert vendor.problems(project) == []
    (project / "packages" / "northstar_utils" / "macros" / "helpers.sql").write_text("-- edited after vendoring\n")
    assert any("helpers.sql: differs" in p for p in vendor.problems(project))
    (project / "packages.yml").write_text("packages:\n  - local: packages/northstar_utils\n  - local: packages/other\n")
    assert any("sha1_hash does not match" in p for p in vendor.problems(project))


def test_at_least_200_meaningful_models() -> None:
    names = _model_names()
    assert len(names) >= 200, len(names)
    generic = [n for n in names if re.search(r"(model|table|view)_?\d+$", n)]
    assert generic == []
    layers = {p.relative_to(MODELS).parts[0] for p in MODELS.rglob("*.sql")}
    assert {"staging", "intermediate", "marts"} <= layers
    domains = {p.name for p in MARTS.iterdir() if p.is_dir()}
    assert {"sales", "inventory", "supply_chain", "customers", "marketing", "finance"} <= domains


def test_every_mart_is_tested_and_public_marts_have_contracts() -> None:
    models = _yaml_models()
    for path in MARTS.rglob("*.sql"):
        model = models.get(path.stem)
        assert model is not None, f"{path}: no YAML entry"
        tests = list(model.get("data_tests") or []) + [t for c in model.get("columns") or [] for t in c.get("data_tests") or []]
        assert tests, f"{path.stem}: no data tests"
        if path.stem in LEGACY_MARTS:
            continue
        assert model.get("config", {}).get("contract", {}).get("enforced") is True, f"{path.stem}: no enforced contract"
        columns = model["columns"]
        assert columns and all(c.get("data_type") for c in columns), f"{path.stem}: contract column without data_type"


def test_finance_unit_tests_cover_the_critical_finance_logic() -> None:
    doc = yaml.safe_load((MARTS / "finance" / "_finance__unit_tests.yml").read_text())
    tested = {u["model"] for u in doc["unit_tests"]}
    assert {"int_revenue__order_recognition", "fct_ap_aging", "fct_gl_trial_balance", "fct_gift_card_liability"} <= tested


def _finance_build_globs() -> list[str]:
    tree = ast.parse((PROJECT_DIR / "BUILD").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "FINANCE_FILES":
            return list(ast.literal_eval(node.value))
    raise AssertionError("dbt/BUILD has no FINANCE_FILES list")


def _dbt_finance_files() -> set[str]:
    """Model files dbt tags `finance`: folder configs in dbt_project.yml, or a config(tags=[... 'finance' ...])."""
    out = set()
    for path in MODELS.rglob("*.sql"):
        rel = str(path.relative_to(PROJECT_DIR))
        in_folder = rel.startswith(("models/marts/finance/", "models/intermediate/finance/"))
        if in_folder or re.search(r"config\([^)]*tags=\[[^\]]*'finance'", path.read_text()):
            out.add(rel)
    return out


def test_pants_finance_tags_match_dbt_finance_tags() -> None:
    globs = _finance_build_globs()
    sql_files = {str(p.relative_to(PROJECT_DIR)) for p in MODELS.rglob("*.sql")}
    pants = {f for f in sql_files if any(fnmatch.fnmatch(f, g) for g in globs)}
    assert pants == _dbt_finance_files()
    assert len(pants) >= 40


def test_seed_column_types_are_per_seed_not_project_wide() -> None:
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    assert "column_types" not in str(project.get("seeds")), "project-wide seed column_types break migrated seeds"
    seeds = yaml.safe_load((PROJECT_DIR / "seeds" / "schema.yml").read_text())["seeds"]
    assert {s["name"]: s["config"]["column_types"] for s in seeds} == {
        n: {"id": "integer"} for n in ("raw_orders", "raw_customers", "raw_payments")
    }
