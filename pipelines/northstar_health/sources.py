"""Loading the inputs: the release state store (through its API, read only) and durations/times from the CLI.

Why through ``StateStore``: the health package must follow the engine's record shapes (``AuditEntry``,
``Deployment``, ``Release``), not its SQL; the store decides SQLite vs PostgreSQL. An absent SQLite state file is bad
input (exit 2), not an empty history: opening it would create an empty store and report a misleading zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from northstar_health.runs import HealthInputError

_DURATION = re.compile(r"^(\d+)([dhm])$")


def parse_since(text: str, now: datetime) -> datetime:
    """``30d`` / ``12h`` / ``90m`` before ``now``, or an ISO-8601 instant (naive = UTC)."""
    match = _DURATION.match(text.strip())
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return now - timedelta(**{unit: int(match.group(1))})
    return parse_instant(text, "--since")


def parse_duration(text: str, option: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise HealthInputError(f"{option} {text!r}: expected a duration like 14d, 12h or 90m")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def parse_instant(text: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise HealthInputError(f"{option} {text!r}: expected 30d/12h/90m or an ISO-8601 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class ReleaseHistory:
    entries: list[Any]  # northstar_release.model.AuditEntry
    commit_times: dict[str, datetime]
    deployments: list[Any]  # northstar_release.model.Deployment


def load_release_history(state_dir: Path, state_url: str | None) -> ReleaseHistory:
    """Audit entries, commit time per release and deployment rows from the engine's state store."""
    from northstar_release.state import StateError, open_store

    if not state_url and not (state_dir / "state.db").is_file():
        raise HealthInputError(f"{state_dir / 'state.db'}: no release state here (rule: --state-dir must hold the "
                               "engine's state.db, or give --state-url)")
    try:
        store = open_store(state_url, state_dir)
        try:
            return ReleaseHistory(entries=store.audit_entries(),
                                  commit_times={r.id: r.created_at for r in store.list_releases()},
                                  deployments=store.deployments())
        finally:
            store.close()
    except StateError as exc:
        raise HealthInputError(f"{state_url or state_dir}: {exc}") from exc
