"""zizmor (offline security audits) and check-jsonschema (GitHub's workflow schema) over .github/workflows.

Why both: the schema catches workflows GitHub would reject outright; zizmor catches the ones it would run unsafely
(template injection, credential persistence, unpinned actions, excessive permissions, dangerous triggers)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

WORKFLOWS = Path(".github/workflows")


def _zizmor() -> str:
    """The zizmor binary from the lint resolve (a Rust program shipped as a wheel's data script)."""
    candidates = [shutil.which("zizmor"), str(Path(sys.executable).parent / "zizmor")]
    for entry in sys.path:
        root = Path(entry)
        candidates += [str(p) for p in root.glob("zizmor-*.data/scripts/zizmor")]
        candidates += [str(p) for p in root.parent.glob("*/zizmor-*.data/scripts/zizmor")]
        candidates += [str(p) for p in root.parents[2].glob("bin/zizmor")] if len(root.parents) > 2 else []
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            os.chmod(candidate, 0o755)
            return candidate
    raise AssertionError(f"zizmor binary not found (looked in {sorted(set(c for c in candidates if c))[:8]})")


def workflow_files() -> list[str]:
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 6, files
    return files


def test_zizmor_offline_finds_nothing() -> None:
    proc = subprocess.run([_zizmor(), "--offline", "--no-progress", *workflow_files()], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path: Path) -> None:
    """The audit is live: an action pinned by tag in a copy of a workflow is reported."""
    bad = tmp_path / "bad.yml"
    text = (WORKFLOWS / "pull-request.yml").read_text()
    text = text.replace("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "actions/checkout@v4", 1)
    bad.write_text(text)
    proc = subprocess.run([_zizmor(), "--offline", "--no-progress", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "unpinned-uses" in proc.stdout + proc.stderr


def test_check_jsonschema_github_workflows_schema() -> None:
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *workflow_files()], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok -- validation done" in proc.stdout


def test_check_jsonschema_rejects_a_malformed_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps: not-a-list\n")
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
