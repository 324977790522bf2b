"""Every record round-trips through JSON, and parsing rejects unknown, missing and mistyped fields by name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from northstar_contracts import airflow, infra, spark, warehouse
from northstar_contracts.base import ContractError, ErrorKind, ErrorRecord, Record, parse, parse_result

SCHEMA: dict[str, Any] = {"type": "struct", "fields": [{"name": "order_date", "type": "date", "nullable": True,
                                                         "metadata": {}}]}
TABLE = warehouse.TableFingerprint(relation='"warehouse"."analytics"."fct_orders"', rows=30, checksum="ab" * 16,
                                   fingerprint="123")
AUDIT = warehouse.AuditResult(audit="not_null_order_id", model="fct_orders", node="fct_orders", status="pass",
                              failing_rows=0, blocking=True)
VERIFY = warehouse.VerifyResult(ok=True, tables={"fct_orders": TABLE}, plan_id="p1", audits_passed=1,
                                audits_failed=[], audits=[AUDIT], seconds=0.5,
                                pins=warehouse.PinsResult(pinned="keep_dev_abc", unpinned=["keep_dev_old"]))
PLAN = warehouse.WarehousePlanReport(
    ok=True, project="/p", environment="dev", is_new_environment=False, has_changes=True,
    changes={"fct_orders": warehouse.ChangeEntry(name='"w"."a"."fct_orders"', node="model", category="breaking",
                                                 added=False, sqlmesh_category="breaking", direct=True,
                                                 forward_only=False, tags=["finance"], fingerprint="f")},
    categories={"fct_orders": "breaking"}, added=[], removed=[], new_snapshots=["fct_orders"],
    backfill=[warehouse.BackfillEntry(model="fct_orders", intervals=1, kind="FULL")], requires_backfill=True,
    virtual_update=False, plan_forward_only=False, uncategorized=[], needs_ack=["fct_orders"],
    acknowledged=["fct_orders"], missing_ack=[], applied=True, rows_recomputed=30,
    rows_recomputed_by_model={"fct_orders": 30}, timings={"load_s": 4.2}, verify=VERIFY, pins=VERIFY.pins)
AUDIT_REPORT = warehouse.WarehouseAuditReport(ok=True, mode="scratch", audits=[AUDIT], passed=1, failed=[], skipped=0)
UNIT = warehouse.WarehouseUnitTestReport(
    ok=False, unit_tests=[warehouse.UnitTestResult(test="unit_test.x.m.t", model="m", status="fail", message="diff")],
    passed=0, failed=["unit_test.x.m.t"], upstream_failures=[])
PEX = spark.SparkPexVerifyReport(ok=True, job="daily_revenue", pex="/x.pex", pex_sha256="a" * 64, mode="spark-submit",
                                 entry_point="m:main", inherit_path="fallback", spark_home="/s", java_home=None,
                                 rows=2, schema_matches=True, expected_schema=SCHEMA, actual_schema=SCHEMA,
                                 values_match=True, seconds=3.5)

EXAMPLES: list[Record] = [
    PLAN, VERIFY, AUDIT_REPORT, UNIT,
    warehouse.WarehouseVerifyReport(**{**VERIFY.__dict__}),
    warehouse.WarehouseCheckReport(ok=False, unit_test=UNIT, audit=AUDIT_REPORT, plan=PLAN, timings={"total_s": 9.0}),
    warehouse.WarehouseTablesReport(environment="prod", plan_id="p", tables={"fct_orders": TABLE}),
    warehouse.WarehouseUnpinReport(unpinned="keep_x", note="n"),
    warehouse.WarehouseEnvsReport(environments=[warehouse.EnvironmentEntry(
        name="prod", expiration_ts=None, expired=False, snapshots=9, plan_id="p", pinned=False)]),
    warehouse.WarehouseJanitorReport(ok=True, ignore_ttl=True),
    airflow.DagbagReport(dag_ids=["a"], import_errors={"dags/b.py": "boom"},
                         policy_violations=[airflow.PolicyViolation(dag_id="a", file="dags/a.py", rule="tags",
                                                                    message="m")]),
    infra.InfraCheckReport(ok=False, stack="dev", config="c.yaml", project="p", program="m:f",
                           resources=[infra.InfraResource(urn="urn:x", type="aws:s3/bucket:Bucket", name="b")],
                           violations=[infra.InfraViolation(resource=None, policy="program-error", message="m")]),
    infra.InfraDeployReport(ok=True, stack="prod", dry_run=True, executed=False, commands=[["pulumi", "up"]]),
    spark.SparkVerifyReport(ok=True, job="daily_revenue", rows=2, schema_matches=True, values_match=True,
                            schema=SCHEMA),
    PEX,
    spark.SparkVerifyBatchReport(ok=True, mode="shared-jvm", jobs=[PEX, PEX], jvm_starts=1, seconds=7.0),
    ErrorRecord(kind=ErrorKind.USAGE, error="--env is required", usage=True, command="plan", details={"x": [1]}),
]


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_round_trip_through_json(record: Record) -> None:
    text = record.to_json()
    assert json.loads(text) == record.to_dict()
    assert type(record).parse(text) == record
    assert type(record).parse(json.loads(text)) == record


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_unknown_field_is_rejected_by_name(record: Record) -> None:
    data = {**record.to_dict(), "row_count": 3}
    with pytest.raises(ContractError, match=rf"{type(record).__name__}: row_count: unknown field"):
        type(record).parse(data)


def test_missing_and_mistyped_fields_are_named() -> None:
    data = PLAN.to_dict()
    del data["rows_recomputed"]
    data["backfill"][0]["intervals"] = "1"  # JSON-strict: no string -> int coercion
    with pytest.raises(ContractError) as err:
        warehouse.WarehousePlanReport.parse(data)
    assert "rows_recomputed: Field required" in str(err.value)
    assert "backfill.0.intervals: Input should be a valid integer" in str(err.value)


def test_nested_unknown_field_is_rejected() -> None:
    data = PLAN.to_dict()
    data["verify"]["tables"]["fct_orders"]["sha256"] = "x"
    with pytest.raises(ContractError, match=r"verify.tables.fct_orders.sha256: unknown field"):
        warehouse.WarehousePlanReport.parse(data)


def test_error_record_is_recognised_in_place_of_a_result() -> None:
    usage = ErrorRecord(kind=ErrorKind.USAGE, error="bad", usage=True, command="tables").to_dict()
    parsed = parse_result(warehouse.WarehouseTablesReport, usage)
    assert isinstance(parsed, ErrorRecord) and parsed.kind is ErrorKind.USAGE and parsed.exit_code == 2
    assert parse_result(warehouse.WarehouseTablesReport, EXAMPLES[6].to_dict()) == EXAMPLES[6]
    assert isinstance(warehouse.parse_warehouse(PLAN.to_dict()), warehouse.WarehousePlanReport)
    with pytest.raises(ContractError, match="unknown command"):
        warehouse.parse_warehouse({"command": "frobnicate", "ok": True})


def test_error_kind_must_be_known() -> None:
    with pytest.raises(ContractError, match="kind"):
        parse(ErrorRecord, {"ok": False, "kind": "oops", "error": "x"})


def test_dagbag_report_serialises_its_lists_and_parses_older_checkers() -> None:
    report = airflow.DagbagReport(dag_ids=["a"], import_errors={}, policy_violations=[])
    assert report.to_dict() == {"dag_ids": ["a"], "import_errors": {}, "policy_violations": [], "parse_seconds": {},
                                "parse_budget_seconds": None, "exempted": []} and report.ok
    # A checker that prints only the original three lists still parses (the hygiene fields default to empty).
    assert parse(airflow.DagbagReport, {"dag_ids": ["a"], "import_errors": {}, "policy_violations": []}) == report
    finding = airflow.PolicyViolation(dag_id=None, file="dags/x.py", rule=airflow.RULE_NO_DAG, message="no DAG")
    full = airflow.DagbagReport(dag_ids=[], import_errors={}, policy_violations=[finding],
                                parse_seconds={"dags/x.py": 0.01}, parse_budget_seconds=1.0,
                                exempted=[airflow.ExemptedFinding(finding=finding, owner="ops", expires="2027-01-31")])
    assert parse(airflow.DagbagReport, full.to_dict()) == full and not full.ok


def test_records_are_frozen() -> None:
    with pytest.raises(AttributeError):
        PLAN.ok = False  # type: ignore[misc]
