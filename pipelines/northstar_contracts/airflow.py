"""Record of the ``dagbag_check`` entry point (``northstar_airflow.dagbag_check FOLDER [--pass-through FOLDER]``).

Exit 0 clean, 1 import errors or policy violations, 2 usage (an ``ErrorRecord``). No ``ok`` field: the engine's
DAG-bundle adapter reads the lists. The three original fields are always present; ``parse_seconds``,
``parse_budget_seconds`` and ``exempted`` default to empty so older checkers (and test doubles) still parse.
"""

from __future__ import annotations

import dataclasses

from northstar_contracts.base import Record

ENTRY_POINT = "dagbag_check"

# Stable ``PolicyViolation.rule`` keys. The first three are the new-DAG policies; the rest are DAG hygiene.
RULE_OWNER, RULE_RETRIES, RULE_TAGS = "owner", "retries", "tags"
RULE_CYCLE = "cycle"  # the DAG's tasks form a cycle (Airflow rejects the DAG at DagBag load)
RULE_DUPLICATE_DAG_ID = "duplicate-dag-id"  # the same dag_id in two or more shipped files
RULE_PARSE_TIME = "parse-time"  # the file took longer than the budget to parse in a fresh process
RULE_NO_DAG = "no-dag"  # a shipped DAG file that yields no DAG
RULE_SPARK_POINTER = "spark-pointer"  # a Spark job referenced other than through the environment's pointer
RULE_SLA = "sla"  # a catalog pipeline's task does not carry the SLA the catalog declares
RULE_EXEMPTION_EXPIRED = "exemption-expired"  # a legacy exemption past its expiry date
RULE_EXEMPTION_UNKNOWN_FILE = "exemption-unknown-file"  # an exemption naming no shipped legacy file

NEVER_EXEMPT = frozenset({RULE_CYCLE, RULE_DUPLICATE_DAG_ID, RULE_NO_DAG, RULE_EXEMPTION_EXPIRED,
                          RULE_EXEMPTION_UNKNOWN_FILE})
"""Rules a legacy exemption cannot waive: the scheduler would lose or misattribute DAGs (besides import errors)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyViolation(Record):
    """One broken rule for one DAG (``dag_id`` is ``None`` when the file yields no DAG); ``rule``: see RULE_*."""

    dag_id: str | None
    file: str
    rule: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExemptedFinding(Record):
    """A legacy DAG's finding waived by a recorded, unexpired exemption (``legacy/dag_exemptions.yaml``)."""

    finding: PolicyViolation
    owner: str
    expires: str  # ISO date, inclusive


@dataclasses.dataclass(frozen=True, kw_only=True)
class DagbagReport(Record):
    """DAG ids found, import errors by ``<folder>/<relative path>``, violations, and per-file parse times.

    ``parse_seconds`` has one entry per shipped DAG file (so a file that yields no DAG is still counted), measured
    in a fresh process per file; ``exempted`` lists the legacy findings waived by a recorded exemption.
    """

    dag_ids: list[str]
    import_errors: dict[str, str]
    policy_violations: list[PolicyViolation]
    parse_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    parse_budget_seconds: float | None = None
    exempted: list[ExemptedFinding] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.import_errors and not self.policy_violations
