"""Warm start: an entry point started before its arguments are known answers exactly like a cold one; anything that is
not a ready warm process makes the call run cold; an unused one exits without a word.

The entry point here is a real one in miniature: a module whose console entry is ``northstar_contracts.warm_start
.console`` around a ``run_entrypoint`` handler (what the warehouse PEX does), run by the real
``SubprocessComponentRunner`` as a subprocess.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from northstar_release import faults
from northstar_release.errors import ComponentError
from northstar_release.gates import GATES
from northstar_release.kinds.registry import KINDS
from northstar_release.model import Artifact, ArtifactKind, ReleaseAction
from northstar_release.prestart import warm_uses
from northstar_release.runner import SubprocessComponentRunner
from northstar_release.stages import DeployStage, GateStage, ReleasePlan, Stage, SwitchMode

PIPELINES = Path(__file__).resolve().parents[2]

ENTRY = textwrap.dedent('''
    import os, sys, time
    from northstar_contracts.base import Record
    from northstar_contracts.harness import Outcome, run_entrypoint
    from northstar_contracts.warm_start import console
    from dataclasses import dataclass

    @dataclass(frozen=True, kw_only=True)
    class Echo(Record):
        args: list
        pid: int
        started: float

    STARTED = time.time()

    def handle(argv):
        code = 1 if argv and argv[0] == "fail" else 0
        return Outcome(code, Echo(args=argv, pid=os.getpid(), started=STARTED))

    def main(argv=None):
        return run_entrypoint(handle, argv)

    console(main, preload=("json",))
''')


@pytest.fixture
def entry(tmp_path: Path) -> Path:
    script = tmp_path / "echo_entry.py"
    script.write_text(ENTRY)
    return script


def runner_for(tmp_path: Path, command: str) -> SubprocessComponentRunner:
    environ = {**os.environ, "NORTHSTAR_ENTRYPOINT_ECHO": command,
               "PYTHONPATH": os.pathsep.join([str(PIPELINES), os.environ.get("PYTHONPATH", "")])}
    return SubprocessComponentRunner(tmp_path, environ=environ)


def test_a_warm_process_answers_like_a_cold_one_and_started_before_the_call(tmp_path: Path, entry: Path) -> None:
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    cold = runner.run("echo", ["plan", "--env", "prod"])
    runner.prestart("echo", "plan")
    time.sleep(0.5)  # the engine's own work before the switch
    called_at = time.time()
    warm = runner.run("echo", ["plan", "--env", "prod"])
    assert warm.exit_code == cold.exit_code == 0
    assert warm.payload["args"] == cold.payload["args"] == ["plan", "--env", "prod"]
    assert warm.payload["started"] < called_at  # it was running (and had imported) before its arguments came
    assert runner.run("echo", ["plan"]).payload["pid"] != warm.payload["pid"]  # used once; the next call is cold
    failing = runner_for(tmp_path, f"{sys.executable} {entry}")
    failing.prestart("echo", "fail")
    assert failing.run("echo", ["fail", "x"]).exit_code == 1  # an exit code passes through unchanged


def test_only_the_named_subcommand_uses_it_and_an_unused_one_exits_quietly(tmp_path: Path, entry: Path) -> None:
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    runner.prestart("echo", "plan")
    waiting = runner._warm[("echo", "plan")].proc  # noqa: SLF001 - the process itself is what is checked
    other = runner.run("echo", ["serving"])
    assert other.payload["pid"] != waiting.pid and waiting.poll() is None  # still waiting for its own call
    runner.dismiss_prestarted()
    assert waiting.returncode == 0 and not runner._warm  # noqa: SLF001


def test_an_entry_point_without_the_protocol_runs_cold(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text('import json, sys\nprint(json.dumps({"argv": sys.argv[1:]}))\n')
    runner = runner_for(tmp_path, f"{sys.executable} {plain}")
    runner.prestart("echo", "plan")
    result = runner.run("echo", ["plan", "--env", "dev"])
    assert result.payload == {"argv": ["plan", "--env", "dev"]}  # the warm one printed no ready line: killed, cold


def test_a_call_with_extra_environment_or_a_fault_point_runs_cold(tmp_path: Path, entry: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    runner.prestart("echo", "plan")
    warm_pid = runner._warm[("echo", "plan")].proc.pid  # noqa: SLF001
    assert runner.run("echo", ["plan"], env={"X": "1"}).payload["pid"] != warm_pid
    runner.prestart("echo", "plan")
    warm_pid = runner._warm[("echo", "plan")].proc.pid  # noqa: SLF001
    monkeypatch.setenv(faults.FAULT_VAR, "component:nothing-here")
    monkeypatch.setenv(faults.ENABLE_VAR, "1")
    assert runner.run("echo", ["plan"]).payload["pid"] == warm_pid  # an unrelated fault point changes nothing


def test_uses_two_serves_the_next_call_warm_too(tmp_path: Path, entry: Path) -> None:
    """A promotion's warehouse gate takes the first warm process; the one started as it was taken serves the switch."""
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    runner.prestart("echo", "plan", 2)
    first = runner.run("echo", ["plan", "--env", "prod"])
    time.sleep(0.5)  # the gates between the two calls
    called_at = time.time()
    second = runner.run("echo", ["plan", "--env", "prod", "--apply"])
    assert second.payload["args"] == ["plan", "--env", "prod", "--apply"]
    assert second.payload["pid"] != first.payload["pid"] and second.payload["started"] < called_at  # warm as well
    assert not runner._warm  # noqa: SLF001 - two uses served: no third process
    assert runner.run("echo", ["plan"]).payload["started"] > called_at  # the third call runs cold
    runner.prestart("echo", "plan", 2)
    runner.dismiss_prestarted()
    assert not runner._warm and runner.run("echo", ["plan"]).payload["started"] > called_at  # noqa: SLF001


def test_the_next_warm_process_outlives_the_worker_thread_whose_call_started_it(tmp_path: Path, entry: Path) -> None:
    """A promotion's gate takes the first warm process on a gate worker thread, which then ends; the process started
    for the switch must still be alive (the parent-death signal follows the thread that forked a child)."""
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    runner.prestart("echo", "plan", 2)
    gate = threading.Thread(target=runner.run, args=("echo", ["plan", "--env", "prod"]), name="gate-warehouse")
    gate.start()
    gate.join()
    time.sleep(1.0)  # the other gates; the worker thread is gone
    waiting = runner._warm[("echo", "plan")].proc  # noqa: SLF001 - the process itself is what is checked
    assert waiting.poll() is None, f"the warm process died with the worker thread (exit {waiting.returncode})"
    called_at = time.time()
    switch = runner.run("echo", ["plan", "--env", "prod", "--apply"])
    assert switch.payload["pid"] == waiting.pid and switch.payload["started"] < called_at


def _plan(action: ReleaseAction, gates: tuple[str, ...]) -> ReleasePlan:
    warehouse = Artifact(kind=ArtifactKind.WAREHOUSE_PROJECT, name="warehouse-project", sha256="a" * 64, size=1,
                         uri="file:///x")
    dags = Artifact(kind=ArtifactKind.DAG_BUNDLE, name="airflow-dags", sha256="b" * 64, size=1, uri="file:///y")
    stages: list[Stage] = [GateStage(name=f"gate:{g}", description="", gate=g,
                                     environment_dependent=GATES[g].environment_dependent) for g in gates]
    mode = SwitchMode.ROLLBACK if action == ReleaseAction.ROLLBACK else SwitchMode.FORWARD
    stages += [DeployStage(name=f"deploy:{a.kind.value}:{a.name}", description="", artifact=a, mode=mode)
               for a in (warehouse, dags)]
    return ReleasePlan(release_id="rel-x", env="prod", action=action, actor="a@x", stages=tuple(stages))


def test_warm_uses_one_per_switch_plus_one_for_the_kinds_env_dependent_gates() -> None:
    entry = KINDS.get(ArtifactKind.WAREHOUSE_PROJECT)
    assert entry is not None and entry.warm_start == "plan"
    # A prod rollback: no gates, one warehouse switch; the DAG bundle kind starts nothing early.
    assert warm_uses(_plan(ReleaseAction.ROLLBACK, ()), KINDS) == [(entry.entry_point, "plan", 1)]
    # A promotion: warehouse_audit (environment-dependent, warehouse kind) may plan first: one more.
    promote = _plan(ReleaseAction.PROMOTE, ("secret_scan", "dag_integrity", "warehouse_audit", "infra_policy"))
    assert warm_uses(promote, KINDS) == [(entry.entry_point, "plan", 2)]
    # Only environment-independent or other kinds' gates: the switch alone.
    other = _plan(ReleaseAction.PROMOTE, ("secret_scan", "dag_integrity", "infra_policy"))
    assert warm_uses(other, KINDS) == [(entry.entry_point, "plan", 1)]


def test_a_process_started_before_the_plan_serves_the_plans_calls(tmp_path: Path, entry: Path) -> None:
    """The CLI starts each warm-start kind once as the command begins (prestart_every_kind); the plan then says it
    needs two calls: the waiting process serves the first and the second is started as it is taken."""
    runner = runner_for(tmp_path, f"{sys.executable} {entry}")
    runner.prestart("echo", "plan")
    early = runner._warm[("echo", "plan")].proc.pid  # noqa: SLF001
    runner.prestart("echo", "plan", 2)  # prestarted(plan): no second process yet, two uses
    assert runner._warm[("echo", "plan")].proc.pid == early  # noqa: SLF001
    time.sleep(0.5)
    called_at = time.time()
    first = runner.run("echo", ["plan"])
    second = runner.run("echo", ["plan", "--apply"])
    assert first.payload["pid"] == early and second.payload["pid"] != early
    assert first.payload["started"] < called_at and not runner._warm  # noqa: SLF001 - both served, none left


def test_stop_running_kills_a_component_a_call_waits_on_in_another_thread(tmp_path: Path) -> None:
    """Gates run their components from worker threads; an aborted evaluation must not leave them running."""
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\ntime.sleep(120)\n")
    runner = runner_for(tmp_path, f"{sys.executable} {sleeper}")
    failures: list[BaseException] = []

    def call() -> None:
        try:
            runner.run("echo", ["check"])
        except ComponentError as exc:
            failures.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 30
    while not runner._running and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.05)
    (proc,) = runner._running  # noqa: SLF001
    runner.stop_running()
    worker.join(timeout=30)
    assert not worker.is_alive() and proc.returncode is not None and proc.returncode < 0  # killed, reaped
    assert failures and "did not print one JSON object" in str(failures[0])
