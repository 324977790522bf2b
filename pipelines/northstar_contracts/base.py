"""The record base class, the error record every entry point prints when it cannot produce its result, and parsing.

Records are frozen, keyword-only dataclasses. ``to_json()`` is stdlib-only (components in resolves without pydantic
emit records too); :func:`parse` needs pydantic and rejects unknown or missing fields, so a field renamed on one side
of the contract fails loudly on the other instead of reading as ``None``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar, TypeVar

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

R = TypeVar("R", bound="Record")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Record:
    """Base of every contract record: one JSON object, every field always present (``null`` when absent)."""

    # Read by pydantic when it validates this dataclass (a plain dict: no pydantic import needed to define records).
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (nested records become objects, enums their values)."""
        return dataclasses.asdict(self, dict_factory=_json_dict)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @classmethod
    def parse(cls: type[R], data: Mapping[str, Any] | str | bytes) -> R:
        """Validate ``data`` (a parsed JSON object or its text) against this record; see :func:`parse`."""
        return parse(cls, data)


def _json_dict(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in items}


class ErrorKind(str, Enum):
    """Why an entry point printed an :class:`ErrorRecord` instead of its result."""

    USAGE = "usage"  # bad arguments or inputs (exit 2): nothing was attempted
    REFUSED = "refused"  # the operation was refused or failed for a reason worth reporting (exit 1)
    INTERNAL = "internal"  # an unexpected exception (exit 1); ``traceback`` says where


@dataclasses.dataclass(frozen=True, kw_only=True)
class ErrorRecord(Record):
    """What an entry point prints when it cannot produce its result record.

    ``usage`` duplicates ``kind == "usage"`` because the engine and older tests read that flag; ``details`` carries
    what the failing command knew (the stack, the job, the environment).
    """

    ok: bool = False
    kind: ErrorKind
    error: str
    usage: bool = False
    command: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    traceback: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.kind is ErrorKind.USAGE else EXIT_PROBLEMS


class ContractError(ValueError):
    """A payload does not match its record (unknown, missing or mistyped fields); the message names each field."""


def parse(record: type[R], data: Mapping[str, Any] | str | bytes) -> R:
    """Validate ``data`` against ``record`` with pydantic v2 (JSON-strict: no string->number coercion).

    Raises :class:`ContractError` naming the record and every offending field path. Needs pydantic: present in
    the tools (engine), dbt and airflow resolves; components in the spark and infra resolves only emit records.
    """
    try:
        from pydantic import ValidationError  # pants: no-infer-dep
    except ImportError as exc:  # pragma: no cover - only in resolves without pydantic
        raise ContractError(f"parsing {record.__name__} needs pydantic, which this environment lacks") from exc
    text = data if isinstance(data, str | bytes) else json.dumps(dict(data), default=str)
    try:
        result: R = _adapter(record).validate_json(text, strict=True)
        return result
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: "
            + ("unknown field" if err["type"] in ("unexpected_keyword_argument", "extra_forbidden") else err["msg"])
            for err in exc.errors()
        )
        raise ContractError(f"{record.__name__}: {problems}") from None


_ADAPTERS: dict[type[Record], Any] = {}


def _adapter(record: type[Record]) -> Any:
    """One pydantic ``TypeAdapter`` per record class: building one costs milliseconds, the engine parses many."""
    adapter = _ADAPTERS.get(record)
    if adapter is None:
        from pydantic import TypeAdapter  # pants: no-infer-dep

        adapter = _ADAPTERS[record] = TypeAdapter(record)
    return adapter


def parse_result(record: type[R], data: Mapping[str, Any]) -> R | ErrorRecord:
    """An entry point's output: its result ``record``, or the :class:`ErrorRecord` it printed instead."""
    if "kind" in data and "error" in data and data.get("ok") is False:
        return parse(ErrorRecord, data)
    return parse(record, data)
