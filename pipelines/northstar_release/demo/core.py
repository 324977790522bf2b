"""``Demo``: one run of the demo -- set-up of the clone and its state, narration, and the shared step bodies the
chapters use; every release action goes through the ``./release`` CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from northstar_release.cli_driver import APPROVER, ONCALL, OUTSIDE_FREEZE, RELEASE, REPO, CliCall, CommandFailed, ReleaseCli, git
from northstar_release.demo import chapters, health_chapter
from northstar_release.demo.edits import DEMO_AUTHOR, WAREHOUSE_KIND
from northstar_release.demo.errors import AdapterNotAvailable, DemoSetupError, StepFailed
from northstar_release.demo.evidence import rows_recomputed, table_fingerprints
from northstar_release.demo.report import DemoReport, StepRecord, _console, render

# The demo is self-contained: state, warehouse and environments come from its work dir and clone, never from the
# caller's shell (a shared PostgreSQL state or warehouse must not receive demo releases).
HERMETIC_UNSET = ("NORTHSTAR_STATE_URL", "NORTHSTAR_ENVIRONMENTS", "NORTHSTAR_TEST_PAUSE_AT", "NORTHSTAR_WAREHOUSE_DIR",
                  "NORTHSTAR_SQLMESH_STATE_URL", "NORTHSTAR_ACTOR")


# ------------------------------------------------------------------------------------------------------- demo ---
class Demo:
    """One run. ``origin`` is the checkout to clone (its HEAD) and whose ``./release`` drives the clone."""

    def __init__(self, *, as_json: bool, keep: bool, workdir: Path | None, origin: Path = REPO,
                 release: Path = RELEASE, err: Console | None = None, out: Console | None = None) -> None:
        self.as_json, self.keep, self.origin, self.release = as_json, keep, origin, release
        self.requested_workdir = workdir
        self.err = err or _console(stderr=True)
        self.out = out or _console(stderr=False)
        self.report = DemoReport()
        self.t0 = time.monotonic()
        self.step_t0 = self.t0
        self.workdir: Path = Path()
        self.clone: Path = Path()
        self.env: dict[str, str] = {}
        self.cli: ReleaseCli | None = None
        self.artifacts: dict[str, dict[str, str]] = {}  # release id -> {"kind:name": sha256} (status's keys)
        self.v1 = self.good = self.bad = ""
        self.good_commit = ""  # (c2) branches its Spark bug from the good change

    # -- narration ---------------------------------------------------------------------------------------------------
    def say(self, text: str, style: str = "") -> None:
        stamp = f"[{time.monotonic() - self.t0:7.1f}s]"
        self.err.print(f"{stamp} {text}", style=style or None, highlight=False, markup=False)

    def sub(self, line: str) -> None:
        if line.strip():
            self.err.print(f"           +{time.monotonic() - self.step_t0:5.1f}s   {line}", style="dim",
                           highlight=False, markup=False)

    def chapter(self, title: str) -> None:
        self.err.print("")
        self.say(title, style="bold")

    @contextmanager
    def step(self, name: str, expected: str) -> Iterator[StepRecord]:
        """Run one step: its body sets ``result``; ``ok`` becomes True unless it raises. Always recorded."""
        record = StepRecord(step=name, expected=expected)
        self.step_t0 = time.monotonic()
        self.say(f"> {name}: expect {expected}")
        try:
            yield record
            record.ok = True
        except AdapterNotAvailable as exc:
            record.result = f"adapter not available: {exc}"
        except (StepFailed, CommandFailed) as exc:
            record.result = str(exc)
        except DemoSetupError as exc:
            record.result = str(exc)
            raise
        except Exception as exc:  # unexpected output must still end in a summary (and one JSON document)
            record.result = f"error: {type(exc).__name__}: {exc}"
        finally:
            record.seconds = time.monotonic() - self.step_t0
            self.report.steps.append(record)
            mark = "ok " if record.ok else "FAILED"
            self.say(f"  {mark} {name}: {record.result} ({record.seconds:.1f}s)",
                     style="green" if record.ok else "red")

    # -- CLI ---------------------------------------------------------------------------------------------------------
    @property
    def rel(self) -> ReleaseCli:
        assert self.cli is not None
        return self.cli

    def must(self, *args: str, actor: str | None = None) -> dict[str, Any]:
        return self.rel.must(*args, actor=actor)

    def call(self, *args: str, actor: str | None = None) -> CliCall:
        return self.rel.call(*args, actor=actor)

    # -- main --------------------------------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            self.setup()
        except DemoSetupError as exc:
            self.report.error = str(exc)
            self.finish()
            return 2
        try:
            chapters.chapter_a(self)
        except StepFailed as exc:  # no v1 in prod: nothing else can be shown
            self.say(f"stopping: {exc}", style="red")
        else:
            for chapter in (chapters.chapter_b, chapters.chapter_c, chapters.chapter_c2, chapters.chapter_d,
                            chapters.chapter_e, health_chapter.chapter_f):
                try:
                    chapter(self)
                except StepFailed as exc:  # a step the rest of this chapter depends on failed; go on with the next
                    self.say(f"skipping the rest of this chapter: {exc}", style="red")
        finally:
            self.cleanup()
        self.finish()
        return self.report.exit_code()

    def finish(self) -> None:
        render(self.report, as_json=self.as_json, out=self.out, err=self.err)

    # -- set-up ------------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.chapter("set-up: a throwaway clone, its own release state, a pinned policy clock")
        head = subprocess.run(["git", "-C", str(self.origin), "rev-parse", "--verify", "-q", "HEAD^{commit}"],
                              capture_output=True, text=True)
        if head.returncode != 0:
            raise DemoSetupError(f"{self.origin} has no commits (or is not a git checkout): the demo clones HEAD; "
                                 "commit first")
        sha = head.stdout.strip()
        if self.requested_workdir is not None:
            self.workdir = self.requested_workdir.absolute()
            for sub in ("clone", "state"):
                if (self.workdir / sub).exists():
                    raise DemoSetupError(f"work dir {self.workdir} already holds {sub}/ from an earlier run; "
                                         "pass an empty or new --workdir")
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="northstar-demo-"))
        self.report.workdir = str(self.workdir)
        self.clone = self.workdir / "clone"

        with self.step("setup: release tool", "./release sets itself up (tools venv, entry points)") as s:
            proc = subprocess.run([str(self.release), "--help"], cwd=self.origin, capture_output=True, text=True)
            if proc.returncode != 0:
                raise DemoSetupError(f"./release set-up failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
            s.result = f"ready ({self.release})"

        with self.step("setup: clone", f"a clone of {self.origin} at HEAD {sha[:12]}") as s:
            proc = subprocess.run(["git", "clone", "-q", "--no-checkout", str(self.origin), str(self.clone)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise DemoSetupError(f"git clone failed: {proc.stderr.strip()}")
            try:
                git(self.clone, "checkout", "-q", "-B", "demo", sha)
            except CommandFailed as exc:
                raise DemoSetupError(f"git checkout in the clone failed: {exc}") from exc
            s.result = f"{self.clone} on branch demo at {sha[:12]}"

        self.env = self.subprocess_env()
        with self.step("setup: policy clock", "NORTHSTAR_NOW outside every prod freeze window") as s:
            s.result = self.check_clock()
        self.cli = ReleaseCli(self.clone, self.env, release=self.release, actor=DEMO_AUTHOR, on_stderr=self.sub)

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in HERMETIC_UNSET}
        env["NORTHSTAR_STATE_DIR"] = str(self.workdir / "state")
        env["NORTHSTAR_NOW"] = OUTSIDE_FREEZE
        env["NORTHSTAR_RELEASE_NO_SETUP"] = "1"  # set up once above, against the original checkout
        # Component entry points come from the original checkout's dist/ (the clone has no build outputs).
        for pex in sorted((self.origin / "dist" / "entrypoints").glob("*.pex")):
            var = "NORTHSTAR_ENTRYPOINT_" + pex.stem.upper().replace("-", "_").replace(".", "_")
            env.setdefault(var, str(pex))
        return env

    def check_clock(self) -> str:
        import yaml

        from northstar_release import policy
        from northstar_release.environments import parse_environments

        # The CLI validates gate names against ITS gate registry; here only the freeze windows matter.
        path = self.clone / "pipelines" / "environments.yaml"
        data = yaml.safe_load(path.read_text())
        named = {g for e in ((data or {}).get("environments") or {}).values() if isinstance(e, dict)
                 for g in (e.get("gates") or [])}
        envs = parse_environments(data, path, named)
        now = policy.now_utc({"NORTHSTAR_NOW": OUTSIDE_FREEZE})
        frozen = [f"{e.name} {w.start}-{w.end}" for e in envs.values() if (w := policy.active_freeze(e, now))]
        if frozen:
            raise StepFailed(f"NORTHSTAR_NOW={OUTSIDE_FREEZE} falls in a freeze window: {', '.join(frozen)}")
        windows = [f"{e.name} {w.start}-{w.end} UTC" for e in envs.values() for w in e.freeze_windows]
        return (f"NORTHSTAR_NOW={OUTSIDE_FREEZE} (freeze windows: {', '.join(windows) or 'none'}); "
                "every deployment's audit entry records clock.override")

    def cleanup(self) -> None:
        stop_pantsd(self.clone)  # the tests gate and the build ran Pants in the clone; its daemon must not outlive it
        if self.keep:
            self.say(f"kept for inspection: clone {self.clone}, state {self.workdir / 'state'} "
                     f"(NORTHSTAR_STATE_DIR={self.workdir / 'state'})")
            return
        for sub in (self.clone, self.workdir / "state"):
            shutil.rmtree(sub, ignore_errors=True)
        self.say(f"removed the clone and its state (pass --keep to inspect them); evidence stays in {self.workdir}")

    # -- shared step bodies ------------------------------------------------------------------------------------------
    def kinds(self, rid: str) -> set[str]:
        return {key.split(":", 1)[0] for key in self.artifacts.get(rid, {})}

    def build(self, label: str) -> str:
        doc = self.must("build")
        release = doc["release"]
        self.artifacts[release["id"]] = {f"{a['kind']}:{a['name']}": a["sha256"] for a in release["artifacts"]}
        return str(release["id"])

    def promote(self, rid: str, env: str, *, action: str = "promote", expect_zero: bool = False) -> str:
        """deploy/promote ``rid`` into ``env``; return a result line naming rows recomputed (from deploy evidence)."""
        args = ["deploy", rid, "--env", env] if action == "deploy" else ["promote", rid, "--to", env]
        call = self.call(*args)
        doc = call.doc or {}
        if call.exit_code != 0 or doc.get("status") not in ("succeeded", "noop"):
            raise StepFailed(f"{action} {rid} -> {env}: {call.describe_failure()}")
        rows = rows_recomputed(doc)
        has_wh = WAREHOUSE_KIND in self.kinds(rid)
        result = f"{doc.get('status')} (deployment #{doc.get('deployment_id')}, {call.seconds:.1f}s)"
        if expect_zero:
            if not has_wh:
                raise AdapterNotAvailable(f"{result}, but the release has no {WAREHOUSE_KIND} artifact, so no "
                                          "warehouse deploy evidence (rows recomputed) exists")
            if rows is None:
                raise StepFailed(f"{result}, but the warehouse deploy evidence names no rows_recomputed")
            if rows != 0:
                raise StepFailed(f"{result}, but {rows} rows were recomputed (expected 0: a virtual update)")
        if has_wh:
            result += f"; rows recomputed: {rows if rows is not None else 'not reported'}"
        return result

    def approve(self, rid: str) -> str:
        author = self.must("show", rid)["release"]["author"]
        approver = APPROVER if author != APPROVER else ONCALL
        refused = self.call("approve", rid, "--env", "prod", actor=author)
        if refused.exit_code != 1:
            raise StepFailed(f"the author {author} was not refused (exit {refused.exit_code}); expected exit 1")
        doc = self.must("approve", rid, "--env", "prod", "--comment", "demo: reviewed", actor=approver)
        if not doc.get("satisfied"):  # e.g. a finance-tagged release needs a second approver
            doc = self.must("approve", rid, "--env", "prod", "--comment", "demo: second reviewer", actor=ONCALL)
        if not doc.get("satisfied"):
            raise StepFailed(f"approvals not satisfied: {doc.get('counted')} of {doc.get('required')}")
        return (f"author {author} refused (exit 1); approved by {', '.join(doc.get('counted') or [])} "
                f"({len(doc.get('counted') or [])}/{doc.get('required')})")

    def live(self, env: str) -> dict[str, Any]:
        state: dict[str, Any] = self.must("status", "--env", env)["environments"][env]
        return state

    def check_live(self, env: str, rid: str) -> str:
        state = self.live(env)
        if state.get("live_release") != rid:
            raise StepFailed(f"{env} runs {state.get('live_release')}, expected {rid}")
        expected = self.artifacts.get(rid, {})
        live = state.get("artifacts") or {}
        wrong = [f"{kind} live {str(live.get(kind, {}).get('sha256'))[:12]} on disk "
                 f"{str(live.get(kind, {}).get('on_disk'))[:12]} != {sha[:12]}"
                 for kind, sha in expected.items()
                 if live.get(kind, {}).get("sha256") != sha or live.get(kind, {}).get("on_disk") != sha]
        if wrong:
            raise StepFailed(f"{env} does not run {rid}'s artifacts: {'; '.join(wrong)}")
        return f"{env} runs {rid}: {', '.join(f'{k} {v[:12]}' for k, v in sorted(expected.items()))} (recorded = on disk)"

    def prod_tables(self) -> dict[str, dict[str, Any]]:
        """Row counts and checksums of prod's warehouse tables, from ``./release tables --env prod``."""
        if WAREHOUSE_KIND not in self.kinds(self.v1):
            raise AdapterNotAvailable(f"releases carry no {WAREHOUSE_KIND} artifact (warehouse adapter not "
                                      "registered), so prod has no warehouse tables to fingerprint")
        payload = self.must("tables", "--env", "prod")
        fp = table_fingerprints(payload)
        if not fp:
            raise StepFailed(f"./release tables --env prod listed no tables: {json.dumps(payload)[:300]}")
        return fp

    def registered_kinds(self) -> list[str]:
        """Every artifact kind the release engine registers (``./release kinds``): a release must carry each."""
        return [str(k["kind"]) for k in self.must("kinds")["kinds"]]


def stop_pantsd(build_root: Path) -> None:
    """SIGTERM the pantsd serving ``build_root`` (it names itself ``pantsd [<build root>]``), if one runs."""
    if build_root == Path():  # set-up failed before the clone existed
        return
    name = f"pantsd [{build_root.resolve()}]".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[0] == name:
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read


def run_demo(*, as_json: bool, keep: bool, workdir: Path | None) -> int:
    """Run the demo (see the module docstring); return the exit code: 0 all held, 1 not, 2 usage/set-up error."""
    return Demo(as_json=as_json, keep=keep, workdir=workdir).run()
