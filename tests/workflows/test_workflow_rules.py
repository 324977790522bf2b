"""Structural rules every workflow in .github/workflows must keep (issue 13), each shown to catch its violation.

Rules: actions pinned by a 40-hex commit SHA; top-level ``permissions`` empty or read-only and every job declaring its
own; ``id-token: write`` only in jobs that use OIDC (AWS credentials or the release identity token); other write
scopes only where listed below; jobs that run ``./release deploy|promote|rollback`` use the GitHub environment they
deploy into and that environment's concurrency group (never cancelled mid-deploy); prod is entered only from a
manually dispatched workflow; no ``pull_request_target``, no ``secrets: inherit``; secrets only as
``${{ secrets.NAME }}`` references in ``env``/``with``; no ``${{ }}`` inside ``run:`` scripts (template injection);
every checkout drops its credentials; every workflow runs steps with ``shell: bash`` (what scripts/ci-local runs).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(".github/workflows")
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^@\s]+)?@[0-9a-f]{40}$")
SECRET_REF = re.compile(r"^\$\{\{\s*secrets\.[A-Z][A-Z0-9_]*\s*\}\}$")
CREDENTIAL_LIKE = re.compile(r"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|ghp_[A-Za-z0-9]{20,}|xox[bp]-")
RELEASE_TARGET = re.compile(r"\./release\b.*?\b(deploy|promote|rollback)\b.*?--(?:env|to)\s+\"?([A-Za-z_][\w-]*)")
OIDC_USERS = ("aws-actions/configure-aws-credentials@", )
# Write scopes other than id-token, by (workflow file, job): each one is needed for what the job does.
WRITE_ALLOWED = {("pull-request.yml", "plan-report"): {"pull-requests"}}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    assert isinstance(data, dict)
    return data


def steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from job.get("steps") or []


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def violations(name: str, wf: dict[str, Any]) -> list[str]:
    out: list[str] = []
    triggers = wf.get("on") or {}
    trigger_names = [triggers] if isinstance(triggers, str) else list(triggers)
    if "pull_request_target" in trigger_names:
        out.append(f"{name}: pull_request_target runs untrusted code with secrets")
    top = wf.get("permissions")
    if top is None:
        out.append(f"{name}: no top-level permissions (default token scopes are too broad)")
    elif top != {} and not (isinstance(top, dict) and all(v in ("read", "none") for v in top.values())):
        out.append(f"{name}: top-level permissions must be {{}} or read-only, got {top}")
    if ((wf.get("defaults") or {}).get("run") or {}).get("shell") != "bash":
        out.append(f"{name}: defaults.run.shell must be bash")
    for text in _strings(wf):
        if CREDENTIAL_LIKE.search(text):
            out.append(f"{name}: something that looks like a credential: {text[:30]}...")
    for scope in ("env",):
        for key, value in (wf.get(scope) or {}).items():
            if "secrets." in str(value) and not SECRET_REF.match(str(value)):
                out.append(f"{name}: env {key} must be a plain secrets reference")
    for job_id, job in (wf.get("jobs") or {}).items():
        where = f"{name}: job {job_id}"
        perms = job.get("permissions")
        if not isinstance(perms, dict):
            out.append(f"{where}: must declare its permissions")
            perms = {}
        uses = [s["uses"] for s in steps(job) if "uses" in s] + ([job["uses"]] if "uses" in job else [])
        runs = [str(s.get("run", "")) for s in steps(job)]
        for ref in uses:
            if not ref.startswith("./") and not PINNED.match(ref):
                out.append(f"{where}: action {ref} is not pinned by a 40-hex commit SHA")
        if job.get("secrets") == "inherit":
            out.append(f"{where}: secrets: inherit passes every secret")
        needs_oidc = any(r.startswith(OIDC_USERS) for r in uses) or any(".github/scripts/oidc-token" in r for r in runs)
        if perms.get("id-token") == "write" and not needs_oidc:
            out.append(f"{where}: id-token: write without an OIDC use")
        if needs_oidc and perms.get("id-token") != "write":
            out.append(f"{where}: uses OIDC but lacks id-token: write")
        for scope, level in perms.items():
            if level == "write" and scope != "id-token" and scope not in WRITE_ALLOWED.get((name, job_id), set()):
                out.append(f"{where}: {scope}: write is not in the allow-list")
        for step in steps(job):
            if "actions/checkout@" in str(step.get("uses", "")) and (step.get("with") or {}).get(
                    "persist-credentials") is not False:
                out.append(f"{where}: checkout must set persist-credentials: false")
            if "${{" in str(step.get("run", "")):
                out.append(f"{where}: run script interpolates ${{{{ }}}} (pass values through env)")
            for key, value in {**(step.get("env") or {}), **(step.get("with") or {})}.items():
                if "secrets." in str(value) and not SECRET_REF.match(str(value)):
                    out.append(f"{where}: {key} must be a plain secrets reference")
            if "secrets." in str(step.get("run", "")):
                out.append(f"{where}: run script references a secret")
        targets = {m.group(2) for r in runs for m in RELEASE_TARGET.finditer(r)}
        for env in sorted(targets):
            if job.get("environment") != env:
                out.append(f"{where}: deploys into {env} but its environment is {job.get('environment')!r}")
            conc = job.get("concurrency") or {}
            if not isinstance(conc, dict) or conc.get("group") != f"northstar-env-{env}":
                out.append(f"{where}: deploys into {env} without concurrency group northstar-env-{env}")
            elif conc.get("cancel-in-progress") is not False:
                out.append(f"{where}: a deployment into {env} must never be cancelled mid-way")
            if env == "prod" and trigger_names != ["workflow_dispatch"]:
                out.append(f"{where}: prod is entered only from a manually dispatched workflow, not {trigger_names}")
        if job.get("environment") and not targets:
            env_name = job["environment"] if isinstance(job["environment"], str) else job["environment"].get("name")
            conc = job.get("concurrency") or {}
            if not isinstance(conc, dict) or conc.get("group") != f"northstar-env-{env_name}":
                out.append(f"{where}: uses environment {env_name} without its concurrency group")
    return out


def workflows() -> dict[str, dict[str, Any]]:
    found = {p.name: load(p) for p in sorted(WORKFLOWS.glob("*.yml"))}
    assert {"pull-request.yml", "deliver.yml", "promote-prod.yml", "hotfix.yml", "scheduled.yml",
            "approve.yml"} <= set(found)
    return found


def test_every_workflow_keeps_the_rules() -> None:
    problems = [v for name, wf in workflows().items() for v in violations(name, wf)]
    assert problems == []


def test_the_delivery_path_is_complete() -> None:
    wfs = workflows()
    pr = wfs["pull-request.yml"]
    runs = "\n".join(str(s.get("run", "")) for job in pr["jobs"].values() for s in steps(job))
    assert "--changed-since=\"origin/${BASE_REF}\" --changed-dependents=transitive lint check test" in runs
    assert "./release plan --since" in runs and ".github/scripts/pr-env up" in runs and "pr-env down" in runs
    assert pr["on"]["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    deliver = wfs["deliver.yml"]
    assert deliver["on"] == {"push": {"branches": ["main"]}}
    deliver_runs = [str(s.get("run", "")) for job in deliver["jobs"].values() for s in steps(job)]
    assert sum("./release build" in r for r in deliver_runs) == 1  # built once ...
    assert any("./pants package airflow:image" in r for r in deliver_runs)
    assert deliver["jobs"]["promote-staging"]["needs"] == ["build", "deploy-dev"]  # ... promoted unchanged
    prod = wfs["promote-prod.yml"]["jobs"]["promote-prod"]
    assert prod["environment"] == "prod" and prod["permissions"]["id-token"] == "write"
    assert "hotfix/**" in wfs["hotfix.yml"]["on"]["push"]["branches"]
    scheduled = wfs["scheduled.yml"]
    assert scheduled["on"]["schedule"] and {"health", "drift"} <= set(scheduled["jobs"])


# -- every rule catches its violation ---------------------------------------------------------------------------------


def mutate(name: str, change: Any) -> list[str]:
    wf = copy.deepcopy(workflows()[name])
    change(wf)
    return violations(name, wf)


def _set_step(job: str, index: int, key: str, value: Any) -> Any:
    return lambda wf: wf["jobs"][job]["steps"][index].__setitem__(key, value)


@pytest.mark.parametrize("name, change, expected", [
    ("pull-request.yml", _set_step("checks", 0, "uses", "actions/checkout@v4"), "not pinned"),
    ("pull-request.yml", _set_step("checks", 0, "uses", "actions/checkout@11bd719"), "not pinned"),
    ("pull-request.yml", lambda wf: wf.__setitem__("permissions", {"contents": "write"}), "read-only"),
    ("pull-request.yml", lambda wf: wf.pop("permissions"), "no top-level permissions"),
    ("pull-request.yml", lambda wf: wf["jobs"]["checks"].pop("permissions"), "must declare its permissions"),
    ("pull-request.yml", lambda wf: wf["jobs"]["checks"]["permissions"].__setitem__("id-token", "write"),
     "id-token: write without an OIDC use"),
    ("deliver.yml", lambda wf: wf["jobs"]["deploy-dev"]["permissions"].pop("id-token"), "lacks id-token"),
    ("pull-request.yml", lambda wf: wf["jobs"]["checks"]["permissions"].__setitem__("contents", "write"),
     "allow-list"),
    ("deliver.yml", lambda wf: wf["jobs"]["deploy-dev"].pop("environment"), "its environment is None"),
    ("deliver.yml", lambda wf: wf["jobs"]["promote-staging"].__setitem__("environment", "dev"),
     "deploys into staging but its environment is 'dev'"),
    ("deliver.yml", lambda wf: wf["jobs"]["deploy-dev"].pop("concurrency"), "without concurrency group"),
    ("deliver.yml", lambda wf: wf["jobs"]["deploy-dev"]["concurrency"].__setitem__("cancel-in-progress", True),
     "never be cancelled"),
    ("promote-prod.yml", lambda wf: wf.__setitem__("on", {"push": {"branches": ["main"]}}), "manually dispatched"),
    ("pull-request.yml", lambda wf: wf.__setitem__("on", {"pull_request_target": {}}), "pull_request_target"),
    ("pull-request.yml", _set_step("checks", 0, "with", {"fetch-depth": 0}), "persist-credentials"),
    ("pull-request.yml", _set_step("checks", 3, "run", "./pants --changed-since=origin/${{ github.head_ref }} test"),
     "interpolates"),
    ("pull-request.yml", _set_step("checks", 3, "env", {"TOKEN": "x${{ secrets.NORTHSTAR_STATE_URL }}"}),
     "plain secrets reference"),
    ("pull-request.yml", _set_step("checks", 3, "run", "echo $AWS AKIAABCDEFGHIJKLMNOP"), "credential"),
    ("pull-request.yml", lambda wf: wf.pop("defaults"), "shell must be bash"),
])
def test_each_rule_catches_its_violation(name: str, change: Any, expected: str) -> None:
    found = mutate(name, change)
    assert any(expected in v for v in found), found
