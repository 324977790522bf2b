"""The fault-injection matrix (issue 14, deliver 3): SIGKILL at every stage boundary and inside each adapter's switch,
for deploy, promote and rollback, then each follow-up -- nothing, ``status``, the same command, a different command.

How a kill is injected: the real CLI runs with ``NORTHSTAR_FAULT_TESTING=1 NORTHSTAR_FAULT=<point>`` and SIGKILLs
itself when it reaches ``<point>`` (faults.py): deterministic, and the test asserts the process really died there
(exit -9, ``FAULT <point>`` on stderr), so a point the command never reaches fails the case instead of passing it.

What "consistent" means after each follow-up (``fault_platform.inconsistencies``):
* ``status --actual`` (the real CLI): for every env and every kind, what really runs (each adapter's ``current``:
  the bundle folder's content, the registry's schema set, the rendered stack config, SQLMesh's snapshot set) equals
  the recorded live digest;
* no deployment is left ``running`` (after an acting command; with nothing run since the kill, the killed run's row
  is necessarily still ``running`` -- SIGKILL runs no code -- and is allowed);
* the audit chain and the state tables verify (``verify_state``, what ``audit verify`` runs; the CLI's ``audit
  verify`` as well);
* with the warehouse: every env's tables are exactly those its recorded release had when it was live and verified.
After "nothing" (and its ``status``), what runs may differ from what is recorded only where the killed run had
already switched: the case then asserts that ``status --actual`` shows every such difference (never hides one), and
the next command (the "same" and "other" follow-ups) repairs it. docs/fault-matrix.md has the measured counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from northstar_release.tests.fault_platform import (
    Platform,
    component_commands,
    inconsistencies,
    make_platform,
)

KINDS = ("dag_bundle", "event_schemas", "infra_version_map")
DEPLOYS = [f"before:deploy:{k}:{n}" for k, n in
           (("dag_bundle", "airflow-dags"), ("event_schemas", "event-schemas"), ("infra_version_map", "infra-version-map"))]
STAGES = {  # the plans' stages on the fixture platform (asserted against each command's dry run below)
    "deploy": ["recovered", "start", *DEPLOYS, "before:verify", "before:record", "after:record"],
}
STAGES["promote"] = [*STAGES["deploy"][:2], "before:check:previous_env", *STAGES["deploy"][2:]]
STAGES["rollback"] = [*STAGES["deploy"][:2], "before:check:known_good", *STAGES["deploy"][2:]]
# Killed at: every boundary from the deployment row's creation on, and inside each kind's switch. ("recovered" and
# "before:check:*" are left out of the matrix to keep its runtime modest: like "start" and the first deploy stage they
# are before any switch; test_fault_points_before_any_switch covers "recovered" and "before:check:known_good".)
SWITCHES = [f"switch:{k}" for k in KINDS]
POINTS = {cmd: [p for p in STAGES[cmd] if p != "recovered" and not p.startswith("before:check")] + SWITCHES
          for cmd in STAGES}
# The "other command" follow-up runs after the kills that leave something switched but unrecorded.
OTHER_AT = {"before:verify", "before:record", *SWITCHES}
CASES = [(cmd, point) for cmd in ("deploy", "promote", "rollback") for point in POINTS[cmd]]
WAREHOUSE_CASES = [("promote", "component-done:warehouse:plan"), ("rollback", "component-done:warehouse:plan")]


def commands(p: Platform) -> dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]]:
    """killed command -> (its args, the *other* follow-up's args, the recorded live release per env expected after
    the other follow-up). The baseline: dev ran v1 then v2; prod runs v1; v3 is built."""
    v1, v2, v3 = p.releases
    rollback_dev = ("rollback", "--env", "dev", "--reason", "fault matrix")
    return {
        "deploy": (("deploy", v3, "--env", "dev"), rollback_dev, {"dev": v1, "prod": v1}),
        # The reproduction: a killed switch, then a command naming the release recorded live.
        "promote": (("promote", v2, "--to", "prod"), ("promote", v1, "--to", "prod"), {"dev": v2, "prod": v1}),
        "rollback": (rollback_dev, ("deploy", v2, "--env", "dev"), {"dev": v2, "prod": v1}),
    }


def same_expected(p: Platform, command: str) -> dict[str, str]:
    v1, v2, v3 = p.releases
    return {"deploy": {"dev": v3, "prod": v1}, "promote": {"dev": v2, "prod": v2},
            "rollback": {"dev": v1, "prod": v1}}[command]


ORDER = ("dag_bundle", "event_schemas", "infra_version_map", "warehouse_project")


def switched_by(point: str) -> set[str]:
    """The kinds a run killed at ``point`` may have changed: those whose deploy stage started before the point."""
    if point.startswith(("before:deploy:", "switch:")):
        kind = point.split(":")[2 if point.startswith("before:") else 1]
        return set(ORDER[:ORDER.index(kind) + (0 if point.startswith("before:") else 1)])
    if point.startswith("component-done:"):  # the component finished its switch: its kind and those before it
        return set(ORDER)
    if point in ("recovered", "start") or point.startswith(("before:check", "component:")):
        return set()
    return set(ORDER)


def run_case(p: Platform, command: str, point: str, other_too: bool) -> None:
    args, other, other_expected = commands(p)[command]
    env = "prod" if command == "promote" else "dev"
    done = same_expected(p, command)

    # 1. the kill, then nothing / `status`: what runs differs from what is recorded only in the killed command's env
    #    (where it switched), `status --actual` shows every such difference, the chain and tables verify, and the
    #    recorded release is the one before the command (or its own, when killed after its record).
    p.reset()
    p.cli.killed(args, point)
    after_kill, live = inconsistencies(p, allow_running=True)
    assert all(line.split(" ")[0] == env and line.split(" ")[1].split(":")[0] in switched_by(point)
               for line in after_kill), after_kill
    assert live == (done if point == "after:record" else {"dev": p.releases[1], "prod": p.releases[0]})
    # 2. the same command converges to its own result (a completed rollback re-run has nothing left to roll back to).
    p.cli(*args, expect=1 if (command, point) == ("rollback", "after:record") else 0)
    problems, live = inconsistencies(p)
    assert problems == [], f"after the same command: {problems}"
    assert live == done
    # 3. a different command (after a fresh kill at the same point) repairs first, then does its own job.
    if not other_too:
        return
    p.reset()
    p.cli.killed(args, point)
    p.cli(*other)
    problems, live = inconsistencies(p)
    assert problems == [], f"after {' '.join(other)}: {problems}"
    if command == "deploy" and point == "after:record":  # v3 was recorded: the rollback goes back to v2, not v1
        other_expected = {"dev": p.releases[1], "prod": p.releases[0]}
    assert live == other_expected


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    p = make_platform(tmp_path_factory.mktemp("faults"), with_warehouse=False, components=component_commands())
    for command, (args, _other, _exp) in commands(p).items():
        assert p.stage_points(args) == STAGES[command], "the fixture's plans changed: update STAGES"
    yield p


@pytest.mark.parametrize(("command", "point"), CASES, ids=[f"{c}-{p}" for c, p in CASES])
def test_kill_then_nothing_status_same_and_other(platform: Platform, command: str, point: str) -> None:
    run_case(platform, command, point, point in OTHER_AT)


@pytest.fixture(scope="module")
def warehouse_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield make_platform(tmp_path_factory.mktemp("faults-wh"), with_warehouse=True, components=component_commands())


@pytest.mark.parametrize(("command", "point"), WAREHOUSE_CASES, ids=[f"{c}-{p}" for c, p in WAREHOUSE_CASES])
def test_warehouse_kill_then_nothing_status_same_and_other(warehouse_platform: Platform, command: str,
                                                           point: str) -> None:
    run_case(warehouse_platform, command, point, True)


@pytest.mark.parametrize("point", ["recovered", "before:check:known_good"])
def test_fault_points_before_any_switch(platform: Platform, point: str) -> None:
    """The remaining boundaries (no deployment row yet / only the check stage done): nothing changes, and the same
    command then converges."""
    run_case(platform, "rollback", point, False)


def test_fault_points_need_the_test_switch(platform: Platform, tmp_path: Path) -> None:
    """NORTHSTAR_FAULT alone (without NORTHSTAR_FAULT_TESTING=1) is ignored: the command runs to the end."""
    args = commands(platform)["deploy"][0]
    platform.reset()
    res = platform.cli(*args, NORTHSTAR_FAULT="start")
    assert "FAULT" not in res.stderr
    assert inconsistencies(platform)[0] == []
