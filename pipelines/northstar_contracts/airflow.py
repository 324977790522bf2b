"""Record of the ``dagbag_check`` entry point (``northstar_airflow.dagbag_check FOLDER [--pass-through FOLDER]``).

Exit 0 clean, 1 import errors or policy violations, 2 usage (an ``ErrorRecord``). No ``ok`` field: the report is
exactly the three lists the engine's DAG-bundle adapter reads.
"""

from __future__ import annotations

import dataclasses

from northstar_contracts.base import Record

ENTRY_POINT = "dagbag_check"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicyViolation(Record):
    """One broken policy for one DAG; ``rule`` is a stable key (owner / retries / tags)."""

    dag_id: str
    file: str
    rule: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DagbagReport(Record):
    """DAG ids found, import errors by ``<folder>/<relative path>``, policy violations of the policy-checked folder."""

    dag_ids: list[str]
    import_errors: dict[str, str]
    policy_violations: list[PolicyViolation]

    @property
    def ok(self) -> bool:
        return not self.import_errors and not self.policy_violations
