"""The one implementation of the entry-point rule: argv in, exactly ONE JSON object on stdout, an exit code.

    def handler(argv: list[str]) -> Outcome: ...
    if __name__ == "__main__":
        sys.exit(run_entrypoint(handler))

* While the handler runs, file descriptor 1 points at stderr (and ``sys.stdout`` at ``sys.stderr``): whatever
  Airflow, SQLMesh, dbt, Spark or Pulumi print -- even from C extensions -- lands on stderr; only the final record is
  written to the real stdout.
* :class:`UsageError` -> an :class:`~northstar_contracts.base.ErrorRecord` of kind ``usage``, exit 2 (also for
  argparse errors, through :class:`JsonArgumentParser`); :class:`Refused` -> kind ``refused``, exit 1; any other
  exception -> kind ``internal`` with a traceback tail, exit 1. A handler never has to print anything itself.

Stdlib only: the harness runs in every component resolve, with or without pydantic.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, NoReturn

from northstar_contracts.base import EXIT_OK, EXIT_PROBLEMS, ErrorKind, ErrorRecord, Record

TRACEBACK_TAIL = 4000


class EntryPointError(Exception):
    """Raised by a handler to end with an error record; ``details`` become the record's ``details``."""

    kind = ErrorKind.INTERNAL

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UsageError(EntryPointError):
    """Bad arguments or inputs (a missing file, an unknown job): exit 2, nothing attempted."""

    kind = ErrorKind.USAGE


class Refused(EntryPointError):
    """The operation was refused or failed for a reason worth reporting (e.g. a lock timeout): exit 1."""

    kind = ErrorKind.REFUSED


@dataclass(frozen=True)
class Outcome:
    """A handler's answer: the exit code and the one record to print."""

    code: int
    record: Record

    @classmethod
    def of(cls, record: Record, ok: bool | None = None) -> Outcome:
        """Exit 0 when ``ok`` (default: the record's own ``ok`` field), else 1."""
        good = bool(getattr(record, "ok", False)) if ok is None else ok
        return cls(EXIT_OK if good else EXIT_PROBLEMS, record)


class JsonArgumentParser(argparse.ArgumentParser):
    """argparse whose errors raise :class:`UsageError` (so they become a JSON error record, exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def error_record(exc: BaseException, command: str | None = None) -> ErrorRecord:
    if isinstance(exc, EntryPointError):
        return ErrorRecord(kind=exc.kind, error=exc.message, usage=exc.kind is ErrorKind.USAGE, command=command,
                           details=exc.details)
    return ErrorRecord(kind=ErrorKind.INTERNAL, error=f"{type(exc).__name__}: {str(exc)[:3000]}", command=command,
                       traceback=traceback.format_exc()[-TRACEBACK_TAIL:])


@contextlib.contextmanager
def stdout_to_stderr(fd_level: bool = True) -> Iterator[None]:
    """Route Python-level (and with ``fd_level`` C-level) writes to stdout onto stderr for the duration."""
    sys.stdout.flush()
    saved = os.dup(1) if fd_level else None
    if saved is not None:
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def exit_now(code: int) -> NoReturn:
    """Flush stdout/stderr and end the process at once, skipping the interpreter's teardown.

    Why: an entry point that imported SQLMesh (or Pulumi) spends ~0.9 s tearing down its module graph after the
    record is printed (measured at 214 models: a rollback switch of 8.3 s wall, 7.4 s until ``main`` returned). The
    record is already on stdout and every warehouse connection is closed by then (``engine.session``), so nothing is
    lost: only the console entry function of a PEX calls this, never ``main`` (tests call ``main`` in-process).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run_entrypoint(handler: Callable[[list[str]], Outcome], argv: Sequence[str] | None = None, *,
                   stdout: IO[str] | None = None, command: str | None = None) -> int:
    """Run ``handler(argv)`` under the rule above; print its record (or an error record); return the exit code.

    ``stdout``: where the record goes (default: the process's real stdout, which is then also protected at the file
    descriptor level). ``command``: the subcommand name stamped into error records when the handler raised.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if command is None and args and not args[0].startswith("-"):
        command = args[0]
    fd_level = stdout is None
    try:
        with stdout_to_stderr(fd_level=fd_level):
            outcome = handler(args)
    except EntryPointError as exc:
        if exc.kind is ErrorKind.USAGE:
            print(f"error: {exc.message}", file=sys.stderr)
        record = error_record(exc, command)
        outcome = Outcome(record.exit_code, record)
    except Exception as exc:  # noqa: BLE001 - every failure must still be one JSON object
        print(traceback.format_exc(), file=sys.stderr)
        record = error_record(exc, command)
        outcome = Outcome(record.exit_code, record)
    out = stdout if stdout is not None else sys.stdout
    out.write(outcome.record.to_json() + "\n")
    out.flush()
    return outcome.code
