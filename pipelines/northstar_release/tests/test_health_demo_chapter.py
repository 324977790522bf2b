"""``./release demo`` chapter (f) against the real ``./release`` CLI, real Airflow runs and the real DagBag check.

The chapter runs on its own DAG-only side repository and state (``<work dir>/health``), so it can run here without
the rest of the demo: a ``Demo`` with only its work dir and subprocess environment set, then ``chapter_f``.
"""

from __future__ import annotations

import os
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from northstar_release.demo import Demo, StepFailed, health_chapter
from northstar_release.demo.health_chapter import DAG_ID, MODEL


def test_chapter_f_detects_the_regression_rolls_back_and_writes_the_dashboard(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORTHSTAR_PYTHON", sys.executable)
    pex = os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX", "")
    if pex:
        monkeypatch.setenv("NORTHSTAR_AIRFLOW_HISTORY_PEX", str(Path(pex).absolute()))
    for var in ("NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK",):
        if os.environ.get(var):
            monkeypatch.setenv(var, str(Path(os.environ[var]).absolute()))
    err = StringIO()
    d = Demo(as_json=True, keep=True, workdir=tmp_path, err=Console(file=err, width=200),
             out=Console(file=StringIO(), width=200))
    d.workdir = tmp_path
    d.env = d.subprocess_env()
    try:
        health_chapter.chapter_f(d)
    except StepFailed as exc:  # the demo's loop would report it and go on; here the failed step says why
        d.say(f"stopped: {exc}")
    failed = [(s.step, s.result) for s in d.report.steps if not s.ok]
    assert not failed, (failed, err.getvalue()[-3000:])
    print("\n".join(f"{s.step}: {s.seconds:.1f} s" for s in d.report.steps))
    assert [s.step.split()[0] for s in d.report.steps] == ["f1", "f2", "f3", "f4", "f5", "f6"]
    h = d.report.health
    assert len(h.regressions) == 1 and h.regressions[0].startswith(f"{DAG_ID} rows[{MODEL}]: median rows 99.5 after")
    assert h.rolled_back_to and h.rolled_back_to.startswith("rel-")
    assert h.detection_to_rollback_s is not None and 0 < h.detection_to_rollback_s < 120
    page = Path(str(h.dashboard))
    assert page == tmp_path / "health" / "dashboard.html" and page.stat().st_size > 100_000
    assert f"dashboard written: {page}" in err.getvalue()
    assert "health_watch" in d.report.to_json() and d.report.to_json()["health_watch"]["dashboard"] == str(page)
