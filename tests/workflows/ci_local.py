"""Run a GitHub Actions workflow's `run:` steps locally, in order, with the env and expressions the workflow gives them.

Why: "green locally means green in CI" only holds when the same commands run with the same inputs. This runner reads
the workflow YAML, orders the jobs by ``needs``, evaluates each job's and step's ``if:``, builds every step's
environment exactly as GitHub does (workflow ``env`` < job ``env`` < step ``env``, plus ``GITHUB_*`` variables and
files: ``GITHUB_ENV``, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``), and runs each ``run:`` script with the shell
GitHub would use (``bash --noprofile --norc -eo pipefail`` for ``shell: bash``). ``uses:`` steps (checkout,
setup-python, cloud credentials) only exist on GitHub: they are skipped with a printed note, so the local machine must
already have what they provide. Secrets are never available locally: ``${{ secrets.X }}`` evaluates to ''.
``CI_LOCAL=1`` is set so a step can tell (e.g. the PR comment step prints the comment instead of posting it).
Expressions are evaluated by ``workflows.gh_expressions``.

Usage: scripts/ci-local WORKFLOW [--job ID ...] [--event NAME] [--action ACTION] [--base-ref REF] [--pr-number N]
       [--input K=V ...] [--var K=V ...] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workflows.gh_expressions import WorkflowError, condition, evaluate, interpolate

# Re-exported: the expression API is part of what the runner offers its callers and tests.
__all__ = ["Run", "WorkflowError", "condition", "evaluate", "github_context", "interpolate", "load_workflow", "main"]

SHELLS = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
    None: ["bash", "-e"],  # GitHub's default for run steps on Linux when no shell is given
    "sh": ["sh", "-e"],
}


# -- workflow model ---------------------------------------------------------------------------------------------------


def load_workflow(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WorkflowError(f"{path}: cannot read workflow: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise WorkflowError(f"{path}: not a workflow (no `jobs` mapping)")
    if True in data and "on" not in data:  # YAML 1.1 reads the key `on` as boolean true
        data["on"] = data.pop(True)
    return data


def job_order(jobs: Mapping[str, Any], wanted: list[str] | None) -> list[str]:
    """Jobs in an order that respects ``needs``; ``wanted`` restricts to those jobs plus what they need."""
    for name in wanted or []:
        if name not in jobs:
            raise WorkflowError(f"unknown job {name!r} (jobs: {', '.join(jobs)})")
    selected: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise WorkflowError(f"jobs need each other in a cycle: {' -> '.join((*trail, name))}")
        needs = jobs[name].get("needs") or []
        for dep in [needs] if isinstance(needs, str) else needs:
            visit(dep, (*trail, name))
        if name not in selected:
            selected.append(name)

    for name in wanted or list(jobs):
        visit(name, ())
    return selected


def _read_kv_file(path: Path) -> dict[str, str]:
    """GITHUB_ENV / GITHUB_OUTPUT syntax: ``key=value`` lines and ``key<<DELIM`` heredocs."""
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        i += 1
    return out


@dataclass
class Run:
    """One local run of a workflow."""

    workflow: dict[str, Any]
    path: Path
    github: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    out: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)
    needs: dict[str, Any] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)

    def context(self, env: Mapping[str, str], steps: Mapping[str, Any], matrix: Mapping[str, Any]) -> dict[str, Any]:
        return {"github": self.github, "inputs": self.inputs, "vars": self.variables, "secrets": {}, "env": dict(env),
                "steps": steps, "needs": self.needs, "matrix": dict(matrix),
                "runner": {"os": "Linux", "temp": self.github["runner_temp"]}, "job": {}, "strategy": {}}

    def run(self, wanted: list[str] | None) -> int:
        jobs = self.workflow["jobs"]
        base_env = {"CI": "true", "CI_LOCAL": "1", "GITHUB_ACTIONS": "false",
                    "GITHUB_EVENT_NAME": self.github["event_name"], "GITHUB_BASE_REF": self.github["base_ref"],
                    "GITHUB_REF": self.github["ref"], "GITHUB_SHA": self.github["sha"],
                    "GITHUB_REPOSITORY": self.github["repository"], "GITHUB_WORKSPACE": self.github["workspace"],
                    "GITHUB_RUN_ID": self.github["run_id"], "RUNNER_TEMP": self.github["runner_temp"]}
        status = 0
        for name in job_order(jobs, wanted):
            job = jobs[name]
            context = self.context(base_env, {}, {})
            if not condition(job.get("if"), context, failed=status != 0):
                self.out(f"ci-local: job {name}: skipped (if: {job.get('if')})")
                self.needs[name] = {"result": "skipped", "outputs": {}}
                continue
            if "uses" in job:
                self.out(f"ci-local: job {name}: calls {job['uses']}: skipped (reusable workflows run only on GitHub)")
                continue
            for matrix in _matrix(job):
                code = self.run_job(name, job, base_env, matrix)
                status = status or code
        return status

    def run_job(self, name: str, job: Mapping[str, Any], base_env: Mapping[str, str], matrix: Mapping[str, Any]) -> int:
        label = f"{name}{' ' + json.dumps(matrix, sort_keys=True) if matrix else ''}"
        self.out(f"ci-local: job {label}")
        steps_ctx: dict[str, Any] = {}
        env = dict(base_env)
        for source in (self.workflow.get("env") or {}, job.get("env") or {}):
            for key, value in source.items():
                env[key] = interpolate(value, self.context(env, steps_ctx, matrix))
        defaults = {**((self.workflow.get("defaults") or {}).get("run") or {}),
                    **((job.get("defaults") or {}).get("run") or {})}
        failed = False
        with tempfile.TemporaryDirectory(prefix="ci-local-") as tmp:
            files = {k: Path(tmp) / k.lower() for k in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
                                                         "GITHUB_PATH")}
            for index, step in enumerate(job.get("steps") or [], start=1):
                title = step.get("name") or step.get("uses") or (str(step.get("run", "")).splitlines() or [""])[0]
                context = self.context(env, steps_ctx, matrix)
                if not condition(step.get("if"), context, failed):
                    self.out(f"ci-local:   step {index} ({title}): skipped (if: {step.get('if')})")
                    continue
                if "uses" in step:
                    self.out(f"ci-local:   step {index}: skipping `uses: {step['uses']}` (a GitHub action; this "
                             "machine must already provide what it sets up)")
                    continue
                step_env = dict(env)
                for key, value in (step.get("env") or {}).items():
                    step_env[key] = interpolate(value, self.context(step_env, steps_ctx, matrix))
                script = interpolate(step.get("run", ""), self.context(step_env, steps_ctx, matrix))
                shell = step.get("shell", defaults.get("shell"))
                if shell not in SHELLS:
                    raise WorkflowError(f"job {name} step {index}: shell {shell!r} is not supported by ci-local")
                workdir = Path(self.github["workspace"]) / str(step.get("working-directory")
                                                               or defaults.get("working-directory") or ".")
                for f in files.values():
                    f.write_text("")
                self.out(f"ci-local:   step {index} ({title}): $ {script.strip()}")
                self.executed.append(script.strip())
                if self.dry_run:
                    continue
                proc = subprocess.run([*SHELLS[shell], "-c", script], cwd=workdir,
                                      env={**os.environ, **step_env, **{k: str(v) for k, v in files.items()}})
                outputs = _read_kv_file(files["GITHUB_OUTPUT"])
                env.update(_read_kv_file(files["GITHUB_ENV"]))
                if "id" in step:
                    steps_ctx[str(step["id"])] = {"outputs": outputs,
                                                  "outcome": "success" if proc.returncode == 0 else "failure"}
                if proc.returncode != 0:
                    self.out(f"ci-local:   step {index} ({title}) FAILED with exit code {proc.returncode}")
                    if not step.get("continue-on-error"):
                        failed = True
            job_outputs = {k: interpolate(v, self.context(env, steps_ctx, matrix))
                           for k, v in (job.get("outputs") or {}).items()}
        self.needs[name] = {"result": "failure" if failed else "success", "outputs": job_outputs}
        self.out(f"ci-local: job {label}: {'FAILED' if failed else 'ok'}")
        return 1 if failed else 0


def _matrix(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    matrix = ((job.get("strategy") or {}).get("matrix")) or {}
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude") and isinstance(v, list)}
    combos: list[dict[str, Any]] = [{}]
    for key, values in axes.items():
        combos = [{**c, key: v} for c in combos for v in values]
    return combos


def _git(args: list[str], cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def github_context(repo: Path, event: str, action: str | None, base_ref: str, pr_number: int, runner_temp: str,
                   inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What ``github.*`` holds for the run, taken from the local checkout."""
    head = _git(["rev-parse", "--abbrev-ref", "HEAD"], repo) or "HEAD"
    sha = _git(["rev-parse", "HEAD"], repo)
    remote = _git(["config", "--get", "remote.origin.url"], repo)
    match = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?$", remote)
    payload: dict[str, Any] = {"inputs": dict(inputs)}
    if event == "pull_request":
        payload.update(number=pr_number, action=action or "synchronize",
                       pull_request={"number": pr_number, "head": {"ref": head, "sha": sha}, "base": {"ref": base_ref}})
    return {"event_name": event, "event": payload, "base_ref": base_ref if event == "pull_request" else "",
            "head_ref": head if event == "pull_request" else "", "ref": f"refs/heads/{head}", "sha": sha,
            "repository": match.group(1) if match else "local/checkout", "actor": os.environ.get("USER", "local"),
            "run_id": "0", "workspace": str(repo), "runner_temp": runner_temp, "token": ""}


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise WorkflowError(f"{flag} expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/ci-local", description=__doc__.split("\n\n")[0])
    parser.add_argument("workflow", type=Path)
    parser.add_argument("--job", action="append", help="run only this job (and the jobs it needs); repeatable")
    parser.add_argument("--event", help="event name (default: the workflow's first trigger)")
    parser.add_argument("--action", help="pull_request activity type (default synchronize)")
    parser.add_argument("--base-ref", default="main", help="pull request base branch (default main)")
    parser.add_argument("--pr-number", type=int, default=0, help="pull request number (default 0)")
    parser.add_argument("--input", action="append", default=[], metavar="K=V", help="workflow_dispatch input")
    parser.add_argument("--var", action="append", default=[], metavar="K=V", help="repository variable (vars.K)")
    parser.add_argument("--dry-run", action="store_true", help="print the steps and their commands; run nothing")
    args = parser.parse_args(argv)
    try:
        path = args.workflow.resolve()
        workflow = load_workflow(path)
        repo = Path(_git(["rev-parse", "--show-toplevel"], path.parent) or Path.cwd())
        triggers = workflow.get("on")
        first = triggers if isinstance(triggers, str) else (triggers[0] if isinstance(triggers, list)
                                                            else next(iter(triggers or {"push": None})))
        inputs = _pairs(args.input, "--input")
        with tempfile.TemporaryDirectory(prefix="ci-local-runner-") as runner_temp:
            github = github_context(repo, args.event or first, args.action, args.base_ref, args.pr_number,
                                    runner_temp, inputs)
            run = Run(workflow, path, github, inputs=inputs, variables=_pairs(args.var, "--var"), dry_run=args.dry_run)
            return run.run(args.job)
    except WorkflowError as exc:
        print(f"ci-local: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
