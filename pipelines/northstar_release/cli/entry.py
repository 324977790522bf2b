"""The process entry point of ``./release``: no input ends in a Python traceback, and ``--json`` failures are JSON.

Why a wrapper around click's own ``main``: in standalone mode click prints usage errors as plain text even under
``--json``, and anything a command did not anticipate (an argument with an undecodable byte, a bug) escapes as a
traceback. Here every outcome is one of the documented exit codes (0 done, 1 blocked, 2 bad input, 3 locked):
* arguments (and the NORTHSTAR_*/actor variables) that are not valid UTF-8 are refused before click parses them --
  Python hands such bytes over as lone surrogates, which cannot be stored, printed or compared safely;
* click usage errors (unknown option, missing argument) exit 2, as one JSON document on stdout under ``--json``;
* any other exception is reported as an internal error (exit 2) naming its type; ``NORTHSTAR_DEBUG=1`` adds the
  traceback for whoever fixes it;
* SIGTERM is turned into ``SystemExit(143)`` so an interrupted deployment is closed as failed on the way out.
Commands themselves map their expected failures in ``cli.app.command``.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Sequence

import click

from northstar_release.cli.app import error_doc, print_error

INTERNAL_ERROR = "internal error in the release tool (a bug; please report it)"
# click >= 8.2 raises this for a bare ``./release``; older click has no such class (then nothing matches here).
_NO_ARGS_IS_HELP: type[click.UsageError] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())
_CHECKED_ENV_PREFIXES = ("NORTHSTAR_",)
_CHECKED_ENV_VARS = ("GITHUB_ACTOR", "CI_ACTOR", "GITLAB_USER_EMAIL", "BUILDKITE_BUILD_CREATOR_EMAIL")


def _not_utf8(value: str) -> bytes | None:
    """The raw bytes of ``value`` when it carries undecodable bytes (lone surrogates), else None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape") if _escapable(value) else value.encode("utf-8", "replace")
    return None


def _escapable(value: str) -> bool:
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def _input_problems(args: Sequence[str]) -> list[str]:
    problems = []
    for position, arg in enumerate(args, start=1):
        raw = _not_utf8(arg)
        if raw is not None:
            problems.append(f"argument {position} ({raw!r}) is not valid UTF-8 text")
    for name, value in sorted(os.environ.items()):
        if name.startswith(_CHECKED_ENV_PREFIXES) or name in _CHECKED_ENV_VARS:
            raw = _not_utf8(value)
            if raw is not None:
                problems.append(f"environment variable {name} ({raw!r}) is not valid UTF-8 text")
    return problems


def _wants_json(args: Sequence[str]) -> bool:
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _report(as_json: bool, code: int, message: str, reasons: list[str]) -> int:
    if as_json:
        click.echo(error_doc(code, message, reasons))
    else:
        print_error("ERROR", message, reasons)
    return code


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM becomes an exception, so a running deployment is closed as failed (evaluator) and a component child is
    killed (subprocess.run kills it on any exception) before the process exits 143, as if killed by the signal."""
    raise SystemExit(128 + signum)


def run(argv: Sequence[str] | None = None, prog_name: str | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit code (commands may also ``sys.exit``)."""
    from northstar_release.cli.main import main

    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        signal.signal(signal.SIGTERM, _terminated)
    as_json = _wants_json(args)
    problems = _input_problems(args)
    if problems:
        return _report(as_json, 2, "refusing input that is not valid UTF-8", problems)
    try:
        result = main.main(args=args, prog_name=prog_name, standalone_mode=False)
    except _NO_ARGS_IS_HELP as exc:
        if as_json:
            return _report(True, 2, exc.format_message(), [])
        exc.show()
        return 2
    except click.UsageError as exc:
        hint = f"run {exc.ctx.command_path} --help" if exc.ctx is not None else "run --help"
        return _report(as_json, 2, f"usage: {exc.format_message()}", [hint])
    except click.ClickException as exc:
        return _report(as_json, 2, exc.format_message(), [])
    except click.Abort:
        return _report(as_json, 2, "aborted", [])
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug must not print a traceback to users
        if os.environ.get("NORTHSTAR_DEBUG") == "1":
            traceback.print_exc()
        return _report(as_json, 2, f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc!s}"[:2000],
                       ["set NORTHSTAR_DEBUG=1 to print the traceback"])
    return result if isinstance(result, int) else 0
