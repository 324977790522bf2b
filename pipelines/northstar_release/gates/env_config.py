"""env_config: the release's configuration for the environment it enters is valid, consistent with its infra stack,
and its digest is recorded.

The file is read from the release's commit (``pipelines/config/<env>.yaml``, schema in ``envconfig.py``), never from
the working tree: what is deployed is what was built. The result's evidence carries the config's sha256, so every
deployment's gate evidence -- chained in the audit log and shown by ``audit export`` -- says which config a release
was deployed with. Cross-checks the schema cannot see: the named infra stack exists at the commit and its
``aws:region`` is the config's region. A release built before configs existed (no file at its commit) passes with a
note; one whose file is invalid fails naming the file, the key and the rule (``build`` already refuses such a commit
with exit 2).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from northstar_release import envconfig, gitutil
from northstar_release.errors import ConfigError, UsageError
from northstar_release.gates.base import GateContext
from northstar_release.model import ArtifactKind, GateOutcome, GateResult


def cross_check(repo: Path, commit: str, config: envconfig.EnvConfig) -> list[str]:
    """Problems between the env config and the infra stack file at ``commit`` (each names file, key and rule)."""
    name = envconfig.config_path(config.environment)
    stack_file = f"infra/Pulumi.{config.infra.stack}.yaml"
    try:
        raw = gitutil.git(repo, "show", f"{commit}:{stack_file}")
    except UsageError:
        if not gitutil.list_tree(repo, commit, "infra"):
            return []  # a repository without infra/ has no stacks to match
        return [f"{name}: infra.stack: names stack {config.infra.stack!r} but {stack_file} does not exist"]
    data = yaml.safe_load(raw) or {}
    region = ((data.get("config") or {}) if isinstance(data, dict) else {}).get("aws:region")
    if region is not None and region != config.infra.region:
        return [f"{name}: infra.region: {config.infra.region!r} differs from aws:region {region!r} in {stack_file}"]
    return []


class EnvConfigGate:
    name = "env_config"
    description = "pipelines/config/<env>.yaml at the release's commit is schema-valid and matches its infra stack; " \
                  "its sha256 is recorded"
    kind = ArtifactKind("release")  # the release's commit, not one artifact
    environment_dependent = True  # a different file per environment

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        env, commit = ctx.env.env, ctx.release.git_commit
        name = envconfig.config_path(env)
        repo = ctx.repo or gitutil.repo_root(Path.cwd()) or Path(".")
        try:
            loaded = envconfig.load_at(repo, commit, env)
        except ConfigError as exc:
            return [GateResult(gate=self.name, target=name, outcome=GateOutcome.FAILED,
                               summary=f"{exc.message}: " + "; ".join(exc.reasons), evidence={"problems": exc.reasons})]
        if loaded is None:
            return [GateResult(gate=self.name, target=name, outcome=GateOutcome.PASSED,
                               summary=f"{ctx.release.id} has no {name} (built before per-env config)",
                               evidence={"config": name, "sha256": None})]
        config, digest = loaded
        problems = cross_check(repo, commit, config)
        evidence = {"config": name, "sha256": digest, "warehouse_target": config.warehouse.target,
                    "airflow_connections": sorted(config.airflow.connections),
                    "airflow_variables": sorted(config.airflow.variables), "infra_stack": config.infra.stack,
                    "problems": problems}
        return [GateResult(gate=self.name, target=name, outcome=GateOutcome.FAILED if problems else GateOutcome.PASSED,
                           summary="; ".join(problems) or f"valid, sha256 {digest[:12]}", evidence=evidence)]
