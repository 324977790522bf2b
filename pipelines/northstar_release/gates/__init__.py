"""Gate registry: name -> gate. environments.yaml may only name gates registered here.

Why a closed registry: a gate name in config that silently does nothing would be a control that looks enforced but is
not. Only gates that really check something are registered.
"""

from __future__ import annotations

from northstar_release.gates.base import Gate, GateContext
from northstar_release.gates.contract import ContractGate
from northstar_release.gates.cost import InfraCostGate
from northstar_release.gates.dag_integrity import DagIntegrityGate
from northstar_release.gates.data_quality import DataQualityGate
from northstar_release.gates.env_config import EnvConfigGate
from northstar_release.gates.freshness import FreshnessGate
from northstar_release.gates.infra_policy import InfraPolicyGate
from northstar_release.gates.schema_compat import SchemaCompatGate
from northstar_release.gates.secrets_gate import SecretScanGate
from northstar_release.gates.spark_consumers import SparkConsumersGate
from northstar_release.gates.tests_gate import TestsGate
from northstar_release.gates.warehouse_audit import WarehouseAuditGate

GATES: dict[str, Gate] = {g.name: g for g in (DagIntegrityGate(), WarehouseAuditGate(), InfraPolicyGate())}
GATES.update({g.name: g for g in (TestsGate(), DataQualityGate(), FreshnessGate())})  # issue 11: 1-3
GATES.update({g.name: g for g in (SecretScanGate(), EnvConfigGate(), InfraCostGate())})  # issue 11: 4-6
GATES.update({g.name: g for g in (SchemaCompatGate(),)})  # issue 10: event schemas
GATES.update({g.name: g for g in (ContractGate(), SparkConsumersGate())})  # issue 10: contracts, Spark consumers


def get_gate(name: str) -> Gate:
    return GATES[name]


__all__ = ["GATES", "Gate", "GateContext", "get_gate"]
