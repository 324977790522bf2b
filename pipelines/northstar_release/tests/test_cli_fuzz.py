"""Property: no input makes the CLI print a Python traceback or exit with an undocumented code (issue 14, deliver 4).

Hypothesis generates argument lists (known commands and options mixed with hostile strings: rich markup, undecodable
bytes, zero-width and homoglyph identities, control characters) and environments.yaml files (random bytes, random
text, and mutations of the real file: duplicated, dropped and inserted lines). Each case runs the real entry point
(``cli.entry.run``, what ``python -m northstar_release.cli`` runs) in-process against a real git repo and SQLite state,
and must end with an exit code in {0, 1, 2, 3} and no "Traceback" -- and must not reach the entry point's catch-all
for unexpected exceptions ("internal error"), which would mean a bug was merely hidden.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from northstar_release.cli.entry import INTERNAL_ERROR, run
from northstar_release.tests.helpers import ENVIRONMENTS_YAML, Cli, fake_checker_cmd, make_repo, release_id

EXIT_CODES = {0, 1, 2, 3}
ENVS = ["dev", "staging", "prod"]
HOSTILE = ["[/]", "[bold red]x[/]", ":x:", "rel-\udcff", "\udcfe", "   ", "alice@northstar.test\u200b",
           "\u0430lice@northstar.test", "bob@x\ny", "\x1b[31m", "%s{}", "'\"\\", "", "-", "--", "-x", "=", "a" * 300,
           "bob@northstar.test", "carol@northstar.test", "alice@northstar.test", "2025-03-04T12:00:00Z"]
FLAGS = ["--json", "--dry-run", "--help", "--wait", "--markdown"]
VALUED = ["--env", "--to", "--as", "--reason", "--comment", "--tag", "--since"]
# Commands that act on the throwaway repo only; `demo` (clones the repo), `plan` (runs ./pants), `audit export` and
# `audit anchor` (write files where told) are left out.
COMMANDS = [["status"], ["history"], ["show"], ["kinds"], ["tables"], ["approve"], ["audit", "verify"], ["deploy"],
            ["promote"], ["rollback"], ["build"], ["nonsense"], []]
BLOCKED_TOKENS = {"demo", "plan", "export", "anchor", "--state-dir", "--state-url", "--oidc-token"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str, dict[str, str]]]:
    """A repo with one release built and deployed to dev (so ids, approvals and rollbacks hit real rows)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    repo = make_repo(tmp)
    cli = Cli(repo, tmp / "state", fake_checker_cmd(tmp))
    cli("build")
    rel = release_id(repo)
    cli("deploy", rel, "--env", "dev")
    env = {"NORTHSTAR_ENTRYPOINT_DAGBAG_CHECK": cli.entrypoint, "NORTHSTAR_STATE_DIR": str(cli.state_dir),
           "NORTHSTAR_NOW": cli.now, "COLUMNS": "200"}
    yield repo, tmp, rel, env


def _invoke(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: object = run(args, prog_name="release")
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code
    assert isinstance(code, int), code
    return code, out.getvalue() + err.getvalue()


def _check(args: list[str]) -> None:
    code, output = _invoke(args)
    assert code in EXIT_CODES, (args, code, output)
    assert "Traceback" not in output and INTERNAL_ERROR not in output, (args, output)


@pytest.fixture
def in_world(world: tuple[Path, Path, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    repo, _tmp, rel, env = world
    for key in [k for k in os.environ if k.startswith("NORTHSTAR_") or k in ("GITHUB_ACTOR", "CI_ACTOR")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo)
    return repo, rel


def test_hostile_arguments_never_crash(in_world: tuple[Path, str]) -> None:
    _repo, rel = in_world
    value = st.one_of(st.sampled_from([*HOSTILE, *ENVS, rel]),
                      st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=12))
    option = st.one_of(st.sampled_from(FLAGS).map(lambda f: [f]), st.tuples(st.sampled_from(VALUED), value).map(list))
    args = st.tuples(st.lists(st.tuples(st.just("--as"), value).map(list), max_size=1),
                     st.sampled_from(COMMANDS), st.lists(value, max_size=2), st.lists(option, max_size=4))

    @settings(max_examples=int(os.environ.get("NORTHSTAR_FUZZ_EXAMPLES", "150")), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(args)
    # The attacks measured in the issue always run, besides whatever Hypothesis generates.
    @example(([], ["show"], ["[/]"], []))
    @example(([], ["show"], ["rel-\udcff"], [["--json"]]))
    @example(([["--as", "[/]"]], ["approve"], [rel], [["--env", "prod"]]))
    @example(([["--as", "[/]"]], ["deploy"], [rel], [["--env", "dev"], ["--dry-run"]]))
    @example(([], ["status"], [], [["--json"], ["--bogus"]]))
    @example(([["--as", "   "]], ["approve"], [rel], [["--env", "prod"], ["--comment", "[/]"]]))
    def prop(parts: tuple[list[list[str]], list[str], list[str], list[list[str]]]) -> None:
        globals_, command, positional, options = parts
        argv = [*(t for pair in globals_ for t in pair), *command, *positional, *(t for o in options for t in o)]
        if BLOCKED_TOKENS & set(argv):
            return
        _check(argv)

    prop()


def _mutations(real: list[str]) -> st.SearchStrategy[bytes]:
    """The real environments.yaml with lines duplicated, dropped or replaced by hostile ones."""
    line = st.one_of(st.sampled_from(real), st.sampled_from(["  prod: {}", "  prod:", "environments:", "  - x",
                                                             "    approvers_required: -1", "    previous: prod",
                                                             "\t", "  dev: {gates: [nope]}", "    promotion: [/]",
                                                             "  caf\u00e9: {}", "&a x: *a", "<<: *missing"]),
                     st.text(max_size=20))

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        lines = list(real)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(lines)))
            if draw(st.booleans()) and lines and at < len(lines):
                del lines[at]
            else:
                lines.insert(at, draw(line))
        return "\n".join(lines).encode("utf-8", "surrogatepass")

    return mutate()


def test_hostile_environments_yaml_never_crashes(in_world: tuple[Path, str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _repo, rel = in_world
    envs = tmp_path / "environments.yaml"
    monkeypatch.setenv("NORTHSTAR_ENVIRONMENTS", str(envs))
    real = ENVIRONMENTS_YAML.read_text().splitlines()
    config = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
                       _mutations(real))
    command = st.sampled_from([["status"], ["show", rel], ["--as", "bob@northstar.test", "approve", rel, "--env", "prod"],
                               ["promote", rel, "--to", "staging", "--dry-run"], ["history", "--json"]])

    @settings(max_examples=int(os.environ.get("NORTHSTAR_FUZZ_EXAMPLES", "150")), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(config, command)
    @example(b"environments:\n  prod: {promotion: approval, approvers_required: 1}\n  prod: {}\n", ["status"])
    @example(b"environments:\n  dev: {}\n  # caf\xe9\n", ["--as", "bob@northstar.test", "approve", rel, "--env", "prod"])
    def prop(data: bytes, argv: list[str]) -> None:
        envs.write_bytes(data)
        _check(argv)

    prop()
