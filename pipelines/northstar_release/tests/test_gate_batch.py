"""GateBatch: kinds side by side, one kind in plan order, a gate's error raised at its own stage."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from northstar_release.gate_batch import GateBatch, GateJob
from northstar_release.model import GateOutcome, GateResult

WAIT_S = 20.0


def _result(name: str) -> list[GateResult]:
    return [GateResult(gate=name, target="t", outcome=GateOutcome.PASSED, summary=name)]


def test_gates_of_different_kinds_run_at_the_same_time() -> None:
    # Each gate waits for the other to have started: one after another, the first would wait in vain.
    a_started, b_started = threading.Event(), threading.Event()

    def gate_a() -> list[GateResult]:
        a_started.set()
        assert b_started.wait(WAIT_S), "gate b never started while gate a ran"
        return _result("a")

    def gate_b() -> list[GateResult]:
        b_started.set()
        assert a_started.wait(WAIT_S), "gate a never started while gate b ran"
        return _result("b")

    batch = GateBatch([GateJob("gate:a", "warehouse_project", gate_a), GateJob("gate:b", "infra_version_map", gate_b)])
    assert [r.gate for r in batch.results("gate:a") + batch.results("gate:b")] == ["a", "b"]


def test_gates_of_one_kind_run_one_after_another_in_plan_order() -> None:
    running, order, overlap = [0], [], []  # type: list[int], list[str], list[int]
    lock = threading.Lock()

    def gate(name: str) -> list[GateResult]:
        with lock:
            running[0] += 1
            overlap.append(running[0])
        order.append(name)
        threading.Event().wait(0.05)  # long enough for a second worker to join in, were there one
        with lock:
            running[0] -= 1
        return _result(name)

    names = ["audit", "quality", "contract"]
    batch = GateBatch([GateJob(f"gate:{n}", "warehouse_project", partial(gate, n)) for n in names])
    assert [batch.results(f"gate:{n}")[0].gate for n in names] == names
    assert order == names and max(overlap) == 1


def test_a_gate_error_is_raised_at_its_stage_and_the_rest_of_its_kind_is_not_run() -> None:
    ran: list[str] = []

    def broken() -> list[GateResult]:
        raise RuntimeError("component entry point 'warehouse' did not print one JSON object")

    def later() -> list[GateResult]:
        ran.append("later")
        return _result("later")

    batch = GateBatch([GateJob("gate:ok", "dag_bundle", lambda: _result("ok")),
                       GateJob("gate:broken", "warehouse_project", broken),
                       GateJob("gate:later", "warehouse_project", later)])
    assert batch.results("gate:ok")[0].gate == "ok"
    with pytest.raises(RuntimeError, match="did not print one JSON object"):
        batch.results("gate:broken")
    assert ran == []


def test_a_blocking_verdict_tells_the_gates_still_running_that_the_release_is_blocked() -> None:
    # The tests gate watches ``blocked`` to stop its Pants run early; a passing verdict must not set it.
    blocked = threading.Event()
    saw_blocked = threading.Event()

    def slow_gate() -> list[GateResult]:
        saw_blocked.set() if blocked.wait(WAIT_S) else None
        return _result("slow")

    def failing_gate() -> list[GateResult]:
        return [GateResult(gate="bad", target="t", outcome=GateOutcome.FAILED, summary="bad")]

    passing = GateBatch([GateJob("gate:ok", "a", partial(_result, "ok"))])
    assert passing.results("gate:ok")[0].outcome == GateOutcome.PASSED and not passing.blocked.is_set()

    batch = GateBatch([GateJob("gate:slow", "source", slow_gate), GateJob("gate:bad", "dag_bundle", failing_gate)],
                      blocked)
    assert batch.results("gate:bad")[0].blocking
    assert batch.results("gate:slow")[0].summary == "slow" and saw_blocked.is_set()


def test_a_gate_error_also_marks_the_release_blocked() -> None:
    def broken() -> list[GateResult]:
        raise RuntimeError("component crashed")

    batch = GateBatch([GateJob("gate:broken", "a", broken)])
    with pytest.raises(RuntimeError):
        batch.results("gate:broken")
    assert batch.blocked.is_set()
