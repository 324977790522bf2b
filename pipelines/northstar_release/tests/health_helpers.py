"""Helpers for the ``./release health`` tests: real Airflow runs into an env's metadata DB, a local webhook receiver.

Why a real Airflow: the watch and the error-budget check read the dag_run/task_instance tables Airflow writes. The
runs come from ``pipelines/northstar_health_fixtures:airflow_history`` (airflow resolve, a PEX): a 3-task DAG run
with ``dag.test()``, its ``transform`` task failing in the runs the script marks.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

PEX = os.environ.get("NORTHSTAR_AIRFLOW_HISTORY_PEX", "dist/entrypoints/airflow_history.pex")


def airflow_runs(home: Path, dag_id: str, count: int, failing: set[int] = frozenset(),  # type: ignore[assignment]
                 tables: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run ``dag_id`` ``count`` times with real Airflow into ``home``/airflow.db; runs in ``failing`` fail. With
    ``tables`` (one per run), run i rebuilds ``tables[i]`` and pushes its profile (the fixture's ``table`` step)."""
    spec = home.parent / f"spec-{datetime.now(UTC).timestamp()}.json"
    home.mkdir(parents=True, exist_ok=True)
    steps = [{"dag_id": dag_id, "fail": i in failing, **({"table": tables[i]} if tables else {})} for i in range(count)]
    spec.write_text(json.dumps({"steps": steps}))
    proc = subprocess.run([str(Path(PEX).absolute()), str(spec), str(home)], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])["runs"]
    assert [r["state"] for r in runs] == ["failed" if i in failing else "success" for i in range(count)]
    return runs


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return None


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A Slack-compatible webhook on 127.0.0.1 recording every payload posted to it."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def policy_now() -> str:
    """NORTHSTAR_NOW for these tests: today 23:59 UTC -- outside prod's 01:00-03:00 freeze, after every run of the
    test and in their month (the error-budget month runs from the 1st to the policy clock)."""
    return datetime.now(UTC).replace(hour=23, minute=59, second=0, microsecond=0).isoformat()
