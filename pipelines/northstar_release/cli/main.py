"""``./release``: the click group and the wiring of every command group (one module per group in this package).

Environment: NORTHSTAR_STATE_DIR, NORTHSTAR_STATE_URL (``postgresql://...`` for team-shared state),
NORTHSTAR_ENVIRONMENTS (path of environments.yaml), NORTHSTAR_NOW (ISO-8601 "current time" for tests and freeze
drills), NORTHSTAR_ENTRYPOINT_<NAME> (component entry point command lines, see runner.py), NORTHSTAR_TEST_PAUSE_AT
(test-only, see evaluator.py). Exit codes: see cli/app.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from northstar_release.cli import audit, build, cost, deploy, health, hotfix, inspect
from northstar_release.cli.app import App, json_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--state-dir", type=click.Path(path_type=Path), envvar="NORTHSTAR_STATE_DIR",
              help="Local state (SQLite, artifacts, env dirs). Default <repo>/.release-state.")
@click.option("--state-url", envvar="NORTHSTAR_STATE_URL",
              help="State database URL; postgresql://... for team-shared state. Default SQLite in the state dir.")
@click.option("--as", "actor", help="Who is acting (default: GITHUB_ACTOR/CI_ACTOR, else git config user.email). "
              "Self-asserted: recorded as unverified.")
@click.option("--oidc-token", "oidc_token", type=click.Path(path_type=Path, dir_okay=False),
              envvar="NORTHSTAR_OIDC_TOKEN_FILE",
              help="File holding the CI's OIDC token (JWT): the actor is taken from it, verified against the issuer's "
                   "key set (NORTHSTAR_OIDC_JWKS, NORTHSTAR_OIDC_REPOSITORY, NORTHSTAR_OIDC_ISSUER/_AUDIENCE).")
@click.pass_context
def main(ctx: click.Context, state_dir: Path | None, state_url: str | None, actor: str | None,
         oidc_token: Path | None) -> None:
    """Northstar release: build once, promote unchanged dev -> staging -> prod through gates, roll back in seconds."""
    ctx.obj = App(state_dir, state_url, actor, oidc_token)



for _command in (build.plan_cmd, build.build_cmd, deploy.deploy_cmd, deploy.promote_cmd, deploy.approve_cmd,
                 deploy.rollback_cmd, inspect.status_cmd, inspect.history_cmd, inspect.show_cmd, inspect.kinds_cmd,
                 inspect.tables_cmd, audit.audit_group, health.health_group,
                 hotfix.hotfix_group, cost.cost_cmd):
    main.add_command(_command)


# ---------------------------------------------------------------------------------------------------------- demo ---
@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the temporary clone and its release state for inspection.")
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the clone, state and evidence go (default: a new temp dir). Must not hold an earlier run.")
@json_option
def demo_cmd(keep: bool, workdir: Path | None, as_json: bool) -> None:
    """The whole release story in a throwaway clone: v1 to prod, a good change promoted with 0 recompute, a bad one
    blocked at dev, prod rolled back, audit verified and exported. Exit 0 only if every expectation held."""
    from northstar_release.demo import run_demo

    sys.exit(run_demo(as_json=as_json, keep=keep, workdir=workdir))



main.add_command(demo_cmd)
