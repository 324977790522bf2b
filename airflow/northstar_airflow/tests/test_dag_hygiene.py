"""DAG hygiene through the real entry point (subprocess, real DagBag) on the platform's real DAG files, each with
one defect: duplicate dag_id, slow top-level parse, task cycle, file without a DAG, hard-coded Spark artifact,
missing catalog SLA, expired legacy exemption. Every defect is named with its file (and DAG/task) and exits 1."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from northstar_airflow.tests.conftest import DAGS_DIR, LEGACY_DAG_IDS, LEGACY_DAGS_DIR, REPO_ROOT, expected_dag_ids
from northstar_airflow.tests.test_dagbag_check import run_check

CATALOG = REPO_ROOT / "pipelines" / "catalog" / "pipelines"
EXEMPTIONS = REPO_ROOT / "legacy" / "dag_exemptions.yaml"
ORDERS_DAILY = DAGS_DIR / "orders_daily.py"


def _rules(report: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((v["file"], v["rule"]) for v in report["policy_violations"])


def _folder(tmp: Path, name: str, files: dict[str, str]) -> Path:
    folder = tmp / name
    folder.mkdir(parents=True)
    for rel, text in files.items():
        (folder / rel).write_text(text)
    return folder


def test_real_bundle_with_catalog_and_exemptions_is_clean() -> None:
    """The shipped 38 + 5 DAGs, the real catalog and the real exemptions: no finding blocks, legacy debt is listed."""
    code, report, stderr = run_check(str(DAGS_DIR), "--pass-through", str(LEGACY_DAGS_DIR), "--catalog", str(CATALOG),
                                     "--exemptions", str(EXEMPTIONS), "--today", "2026-12-01")
    assert code == 0, stderr
    assert report is not None and report["import_errors"] == {} and report["policy_violations"] == []
    assert report["dag_ids"] == sorted([*expected_dag_ids(), *LEGACY_DAG_IDS])
    assert len(report["parse_seconds"]) == 43 and max(report["parse_seconds"].values()) < 1.0
    assert {e["finding"]["file"] for e in report["exempted"]} == {f"legacy_dags/{d}.py" for d in LEGACY_DAG_IDS}


def test_duplicate_dag_id_across_files_names_every_file(tmp_path: Path) -> None:
    text = ORDERS_DAILY.read_text()
    dags = _folder(tmp_path, "dags", {"orders_daily.py": text, "orders_daily_copy.py": text})
    legacy = _folder(tmp_path, "legacy_dags", {"old_orders.py": text})
    exemptions = tmp_path / "ex.yaml"  # duplicates are never exempt, even for a legacy file with an exemption
    exemptions.write_text("exemptions:\n  - {file: old_orders.py, owner: ops, expires: 2099-01-01, reason: r}\n")
    code, report, _ = run_check(str(dags), "--pass-through", str(legacy), "--exemptions", str(exemptions))
    assert code == 1 and report is not None
    files = ["dags/orders_daily.py", "dags/orders_daily_copy.py", "legacy_dags/old_orders.py"]
    assert _rules(report) == [(f, "duplicate-dag-id") for f in files]
    for v in report["policy_violations"]:
        assert v["dag_id"] == "orders_daily" and all(f in v["message"] for f in files)
    assert report["dag_ids"] == ["orders_daily"]


def test_two_second_top_level_parse_is_blocked_with_the_file_named(tmp_path: Path) -> None:
    real = (DAGS_DIR / "generated" / "ingest_exchange_rates.py").read_text()
    slow = real.replace("from __future__ import annotations\n", "from __future__ import annotations\n\nimport time\n\n"
                        "time.sleep(2)\n", 1)
    dags = _folder(tmp_path, "dags", {"orders_daily.py": ORDERS_DAILY.read_text(), "ingest_exchange_rates.py": slow})
    code, report, _ = run_check(str(dags))
    assert code == 1 and report is not None
    assert _rules(report) == [("dags/ingest_exchange_rates.py", "parse-time")]
    (violation,) = report["policy_violations"]
    assert violation["dag_id"] == "ingest_exchange_rates" and "over the 1 s budget" in violation["message"]
    assert report["parse_seconds"]["dags/ingest_exchange_rates.py"] >= 2.0
    assert report["parse_seconds"]["dags/orders_daily.py"] < 1.0  # the sleep is charged to its own file only
    code, report, stderr = run_check(str(dags), "--parse-budget", "5")  # the budget is configurable
    assert code == 0, stderr


def test_cycle_is_reported_with_the_dag_and_its_tasks(tmp_path: Path) -> None:
    cyclic = ORDERS_DAILY.read_text() + "    publish >> validate\n"
    dags = _folder(tmp_path, "dags", {"orders_daily.py": cyclic})
    code, report, _ = run_check(str(dags))
    assert code == 1 and report is not None
    assert _rules(report) == [("dags/orders_daily.py", "cycle")]
    (violation,) = report["policy_violations"]
    assert violation["dag_id"] == "orders_daily"
    assert "publish -> validate_orders -> summarise_orders -> publish" in violation["message"]
    assert report["import_errors"] == {}


OPTIONAL_DAG = '''"""Vendor usage report: only when the vendor provider is installed."""
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

try:
    from northstar_vendor_provider.operators import VendorOperator
except ImportError:
    VendorOperator = None

if VendorOperator is not None:
    with DAG("vendor_usage", start_date=datetime(2024, 1, 1), schedule=None, tags=["vendor"],
             default_args={"owner": "data-platform", "retries": 1}):
        EmptyOperator(task_id="noop")
'''


def test_files_that_yield_no_dag_are_reported_not_dropped(tmp_path: Path) -> None:
    dags = _folder(tmp_path, "dags", {"orders_daily.py": ORDERS_DAILY.read_text(), "vendor_usage.py": OPTIONAL_DAG,
                                      "shared_constants.py": "REGION = 'eu-west-1'\n"})
    code, report, _ = run_check(str(dags))
    assert code == 1 and report is not None
    assert _rules(report) == [("dags/shared_constants.py", "no-dag"), ("dags/vendor_usage.py", "no-dag")]
    by_file = {v["file"]: v["message"] for v in report["policy_violations"]}
    assert "line 8: import northstar_vendor_provider.operators" in by_file["dags/vendor_usage.py"]
    assert "No module named 'northstar_vendor_provider'" in by_file["dags/vendor_usage.py"]
    assert "defines no DAG" in by_file["dags/shared_constants.py"]
    assert len(report["parse_seconds"]) == 3 and report["dag_ids"] == ["orders_daily"]


def test_hard_coded_spark_artifact_and_missing_sla_in_the_real_dag_folder(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    shutil.copytree(DAGS_DIR, dags)
    spark = dags / "generated" / "spark_daily_revenue.py"
    pinned = "/srv/northstar/envs/prod/spark/jobs/daily_revenue-2024-06-01.pex"
    spark.write_text(re.sub(r"bash_command='.*',\n", f"bash_command='exec spark-submit {pinned} --input x',\n",
                            spark.read_text(), count=1))
    fx = dags / "generated" / "ingest_exchange_rates.py"
    fx.write_text(fx.read_text().replace("        sla=timedelta(minutes=30),\n", "", 1))
    code, report, _ = run_check(str(dags), "--catalog", str(CATALOG))
    assert code == 1 and report is not None and report["import_errors"] == {}
    assert _rules(report) == [("dags/generated/ingest_exchange_rates.py", "sla"),
                              ("dags/generated/spark_daily_revenue.py", "spark-pointer"),
                              ("dags/generated/spark_daily_revenue.py", "spark-pointer")]
    messages = " | ".join(v["message"] for v in report["policy_violations"])
    assert f"line 31: hard-coded Spark artifact path '{pinned}'" in messages
    assert "task spark_daily_revenue submits a Spark job without resolving it" in messages
    assert ("task ingest_s3__exchange_rates has no sla: catalog pipeline ingest_s3__exchange_rates "
            "(pipelines/finance.yaml) declares sla 30 min") in messages


def test_expired_legacy_exemption_names_the_file_and_the_owner(tmp_path: Path) -> None:
    dags = _folder(tmp_path, "dags", {"orders_daily.py": ORDERS_DAILY.read_text()})
    code, report, _ = run_check(str(dags), "--pass-through", str(LEGACY_DAGS_DIR), "--exemptions", str(EXEMPTIONS),
                                "--today", "2027-02-15")  # the real file: the FX loader's exemption ends 2027-01-31
    assert code == 1 and report is not None
    fx = "legacy_dags/legacy_finance_fx_loader.py"
    assert _rules(report) == [(fx, "exemption-expired"), (fx, "retries"), (fx, "tags")]
    expired = next(v for v in report["policy_violations"] if v["rule"] == "exemption-expired")
    assert "legacy_finance_fx_loader.py (owner finance-data) expired on 2027-01-31" in expired["message"]
    assert fx not in {e["finding"]["file"] for e in report["exempted"]} and report["exempted"]


def test_malformed_exemptions_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "dag_exemptions.yaml"
    bad.write_text("exemptions:\n  - {file: x.py, owner: ops}\n")
    code, report, _ = run_check(str(ORDERS_DAILY.parent), "--exemptions", str(bad))
    assert code == 2 and report is not None and report["kind"] == "usage"
    assert "dag_exemptions.yaml" in report["error"] and "expires" in report["error"]
