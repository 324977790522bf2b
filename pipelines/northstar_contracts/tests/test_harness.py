"""The stdout-JSON rule: one JSON object on stdout whatever happens, library noise on stderr, exit 0/1/2."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from northstar_contracts.base import ErrorRecord
from northstar_contracts.harness import JsonArgumentParser, Outcome, Refused, UsageError, run_entrypoint
from northstar_contracts.infra import InfraDeployReport


def handler(argv: list[str]) -> Outcome:
    parser = JsonArgumentParser(prog="t")
    parser.add_argument("mode", choices=["ok", "fail", "usage", "refused", "crash"])
    args = parser.parse_args(argv)
    print("library noise")  # must never reach the record's stream
    if args.mode == "usage":
        raise UsageError("no such stack", stack="dev")
    if args.mode == "refused":
        raise Refused("warehouse is locked")
    if args.mode == "crash":
        raise KeyError("boom")
    return Outcome.of(InfraDeployReport(ok=args.mode == "ok", stack="dev", dry_run=True, executed=False))


@pytest.mark.parametrize("mode, code, kind", [("ok", 0, None), ("fail", 1, None), ("usage", 2, "usage"),
                                              ("refused", 1, "refused"), ("crash", 1, "internal")])
def test_outcomes(mode: str, code: int, kind: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert run_entrypoint(handler, [mode], stdout=out) == code
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    if kind is None:
        assert InfraDeployReport.parse(payload).ok is (code == 0)
    else:
        record = ErrorRecord.parse(payload)
        assert record.kind.value == kind and record.usage is (kind == "usage") and record.command == mode
        assert (record.traceback is not None) is (kind == "internal")
    assert "library noise" in capsys.readouterr().err or kind == "usage"


def test_argparse_errors_are_usage_records() -> None:
    out = io.StringIO()
    assert run_entrypoint(handler, ["nope"], stdout=out) == 2
    record = ErrorRecord.parse(out.getvalue())
    assert record.usage and "invalid choice" in record.error


def test_c_level_writes_go_to_stderr(tmp_path: Path) -> None:
    """A subprocess whose handler writes to file descriptor 1 directly: stdout still carries only the record."""
    script = tmp_path / "ep.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        from northstar_contracts.harness import Outcome, run_entrypoint
        from northstar_contracts.infra import InfraDeployReport
        def handler(argv):
            os.write(1, b"written to fd 1\\n")
            print("printed")
            return Outcome.of(InfraDeployReport(ok=True, stack="dev", dry_run=True, executed=False))
        sys.exit(run_entrypoint(handler))
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stack"] == "dev" and len(proc.stdout.splitlines()) == 1
    assert "written to fd 1" in proc.stderr and "printed" in proc.stderr
