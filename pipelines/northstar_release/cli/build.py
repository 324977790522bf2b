"""``./release plan`` (which release units a change touches) and ``./release build`` (HEAD -> a release)."""

from __future__ import annotations

import click
from rich.table import Table

from northstar_release.cli.app import ERR, OUT, App, command, emit, json_option
from northstar_release.errors import ReleaseError, UsageError


# ---------------------------------------------------------------------------------------------------------- plan ---
@click.command("plan")
@click.option("--since", help="Git ref to diff against (default: the commit live in prod, else HEAD~1).")
@click.option("--markdown", is_flag=True, help="Print a Markdown summary for a PR comment.")
@json_option
@click.pass_obj
@command
def plan_cmd(app: App, since: str | None, markdown: bool, as_json: bool) -> None:
    """Show which release units, gates and approvals the changes since REF need."""
    from northstar_release.changes import compute_change_plan, pants_for, to_markdown
    from northstar_release.explainer import IMPACT_COLUMNS, impact_rows

    if since is None:
        since = "HEAD~1"
        try:
            from northstar_release.plan import live_release_id

            rid = live_release_id(app.store, "prod") if "prod" in app.environments else None
            if rid and (rel := app.store.get_release(rid)):
                since = rel.git_commit
        except ReleaseError:
            raise
    from northstar_release.plan_checks import run_plan_checks  # issue 11: secrets, env config, infra diff + cost
    from northstar_release.runner import SubprocessComponentRunner

    checks = run_plan_checks(app.repo, since, app.state_dir, SubprocessComponentRunner(app.repo))
    cp = compute_change_plan(app.repo, since, pants_for(app.repo), app.environments)

    def human() -> None:
        if markdown:
            click.echo(to_markdown(cp))
            return
        table = Table(title=f"changes since {since}: {len(cp.files)} file(s)")
        for col in ("unit", "targets", "files", "tags", "gates"):
            table.add_column(col)
        for u in cp.units:
            table.add_row(u.kind.value, str(len(u.targets)), str(len(u.files)), ", ".join(u.tags) or "-",
                          ", ".join(u.gates))
        OUT.print(table)
        if cp.impacts:
            impact = Table(title="downstream impact per change")
            for col in IMPACT_COLUMNS:
                impact.add_column(col)
            for row in impact_rows(cp.impacts):
                impact.add_row(*row)
            OUT.print(impact)
        for env, req in cp.env_requirements.items():
            if req["approvers"]:
                why = f" ({req['why']})" if req["why"] else ""
                OUT.print(f"approvals: {env} needs {req['approvers']} (not the author){why}", highlight=False,
                          markup=False)
            OUT.print(f"gates: {env}: {', '.join(req['gates']) or 'none'}", highlight=False, markup=False)
        for note in cp.risk_notes:
            OUT.print(f"risk: {note}", highlight=False, markup=False)
        for line in checks.lines():
            OUT.print(line, highlight=False, markup=False)

    if markdown and as_json:
        raise UsageError("choose one of --markdown and --json")
    emit(app, {**cp.to_json(), **checks.to_json()}, human)


# --------------------------------------------------------------------------------------------------------- build ---
@click.command("build")
@click.option("--tag", "tags", multiple=True, help="Extra release tag (e.g. finance); tags only add restrictions.")
@click.option("--emergency", is_flag=True, help="An emergency change: tag the release `hotfix` (the hotfix lane; "
              "see northstar_release/hotfix.py: on-call approval, mandatory post-hoc review).")
@click.option("--ack-breaking", "acks", multiple=True, metavar="MODEL",
              help="Acknowledge a breaking change to a finance model or a forward-only change (recorded as tag "
                   "ack:MODEL in the release and its audit entry). Give it on the first build of the commit.")
@click.option("--since", help="Also tag the release with the policy tags reached by the changes since REF. Tags are "
              "always computed against the commit live in prod (every policy tag in the repo when prod is empty); "
              "--since only adds. Both bases are recorded in the build's audit entry.")
@json_option
@click.pass_obj
@command
def build_cmd(app: App, tags: tuple[str, ...], emergency: bool, acks: tuple[str, ...], since: str | None,
              as_json: bool) -> None:
    """Build HEAD into a release (refuses a dirty tree; same commit -> same release, a no-op)."""
    from northstar_release.build import build, require_clean_tree
    from northstar_release.kinds.registry import KINDS
    from northstar_release.plan import live_release_id

    require_clean_tree(app.repo, [app.state_dir])  # cheap check first: computing release tags runs Pants (~25 s)
    all_tags = set(tags) | {f"ack:{model}" for model in acks} | ({"hotfix"} if emergency else set())
    live = live_release_id(app.store, "prod")
    live_release = app.store.get_release(live) if live else None
    prod_commit = live_release.git_commit if live_release else None
    # Policy tags are computed, not opt-in: against the commit live in prod (--since can only add); through
    # dbt/catalog lineage always, and Pants when the repository has it.
    from northstar_release import gitutil
    from northstar_release.changes import build_tags, pants_for

    if since is not None:  # resolved, so the recorded base names a commit an auditor can find
        since = gitutil.git(app.repo, "rev-parse", "--verify", f"{since}^{{commit}}").decode().strip()
    computed, why = build_tags(app.repo, since, prod_commit, pants_for(app.repo))
    all_tags |= computed
    ERR.print(f"release tags {sorted(computed) or '[]'} ({why})", highlight=False, markup=False)
    basis = {"prod_live_commit": prod_commit, "since": since, "why": why}
    result = build(app.repo, app.store, app.artifacts, KINDS.adapters(), app.actor, tags=sorted(all_tags),
                   ignore_paths=[app.state_dir], contributors_since=prod_commit, tags_basis=basis,
                   progress=lambda m: ERR.print(m, highlight=False, markup=False))
    rel = result.release

    def human() -> None:
        OUT.print(f"{rel.id} ({'built' if result.created else 'already built, no-op'})", highlight=False)
        for a in rel.artifacts:
            OUT.print(f"  {a.kind.value} {a.name} sha256={a.sha256}", highlight=False)

    emit(app, {"ok": True, "created": result.created, "release": rel.to_json()}, human)


