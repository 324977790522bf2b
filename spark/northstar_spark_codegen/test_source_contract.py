"""The committed Spark source contract matches pipelines/catalog/sources.yaml; bad contracts are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar_spark_codegen import source_contract

SOURCES = Path("pipelines/catalog/sources.yaml")
MODULE = Path("spark/northstar_spark/source_contract.py")


def test_committed_module_is_up_to_date() -> None:
    assert source_contract.main(["--sources", str(SOURCES), "--output", str(MODULE), "--check"]) == 0


def test_contract_has_every_system_and_table() -> None:
    contract = source_contract.load_contract(SOURCES)
    assert {system: len(tables) for system, tables in contract.items()} == {
        "retail_oltp": 21, "finance_erp": 5, "kafka": 5, "s3": 6,
    }
    assert contract["kafka"]["order_events"]["topic"] == "orders.order_events.v1"
    assert contract["s3"]["advance_shipping_notices"]["format"] == "json"
    assert contract["retail_oltp"]["inventory_snapshots"]["pk"] == ["snapshot_date", "warehouse_id", "product_id"]


def test_stale_module_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "source_contract.py"
    stale.write_text(MODULE.read_text().replace("'bigint'", "'int'", 1))
    assert source_contract.main(["--sources", str(SOURCES), "--output", str(stale), "--check"]) == 1
    assert source_contract.main(["--sources", str(SOURCES), "--output", str(stale)]) == 0
    assert stale.read_text() == MODULE.read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("customer_id: bigint", "customer_id: uuid"),
         "systems.retail_oltp.tables.customers.columns.customer_id: unknown logical type 'uuid'"),
        (("{pk: customer_id,", "{pk: client_id,"), "systems.retail_oltp.tables.customers.pk: must name columns"),
        (("kind: kafka", "kind: rabbitmq"), "systems.kafka.kind: must be one of"),
    ],
)
def test_bad_contract_names_file_key_and_rule(tmp_path: Path, edit: tuple[str, str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text(SOURCES.read_text().replace(*edit, 1))
    output = tmp_path / "out.py"
    assert source_contract.main(["--sources", str(bad), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and message in err
    assert not output.exists()
