"""Exceptions that carry the CLI exit code they map to.

Why one small hierarchy: the exit codes are a contract with CI (0 done, 1 blocked, 2 bad input, 3 lock held), so each
failure is classified where it is detected, not guessed at the top of the CLI.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """Base: a failure the CLI reports with ``exit_code`` and optional ``reasons``."""

    exit_code = 2

    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = list(reasons or [])


class UsageError(ReleaseError):
    """Bad input: unknown env, unknown release, dirty tree. Exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """environments.yaml is malformed or invalid; every reason names the file, the key path and the rule. Exit 2."""


class ComponentError(UsageError):
    """A component entry point is missing, timed out or printed something other than one JSON object. Exit 2."""


class Blocked(ReleaseError):
    """A gate, policy, approval or freeze window refused the change; nothing in the environment changed. Exit 1."""

    exit_code = 1
