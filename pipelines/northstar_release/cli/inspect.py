"""Read-only commands: ``status``, ``history``, ``show``, ``kinds``, ``tables``."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import click
from rich.table import Table

from northstar_release.cli.app import OUT, App, command, emit, json_option
from northstar_release.errors import UsageError


# ------------------------------------------------------------------------------------------------ status/history ---
@click.command("status")
@click.option("--env", "env_name", help="Only this environment.")
@click.option("--actual", is_flag=True,
              help="Also ask each component what the environment really runs (the warehouse: one entry-point call "
                   "per env reading SQLMesh state). Acting commands always check this before they act.")
@json_option
@click.pass_obj
@command
def status_cmd(app: App, env_name: str | None, actual: bool, as_json: bool) -> None:
    """What is live in each environment (recorded, on disk and, with --actual, what really runs) and the last
    deployment."""
    from northstar_release.plan import live_release_id

    names = [app.env(env_name).name] if env_name else list(app.environments)
    rt = app.runtime()
    doc: dict[str, Any] = {"ok": True, "environments": {}}
    for name in names:
        deps = app.store.deployments(env=name)
        live = app.store.live(name)
        on_disk = app.actual_live(rt, name)
        running = app.actual_live(rt, name, actual=True) if actual else {}
        doc["environments"][name] = {
            "live_release": live_release_id(app.store, name),
            "artifacts": {f"{k}:{n}": {"sha256": sha, "release_id": rid, "on_disk": on_disk.get((k, n)),
                                       **({"actual": running.get((k, n))} if actual else {})}
                          for (k, n), (sha, rid) in live.items()},
            "last_deployment": deps[0].to_json() if deps else None,
        }

    def human() -> None:
        table = Table(title="environments")
        for col in ("env", "live release", "digest", "on disk", *(("actual",) if actual else ()), "last deployment"):
            table.add_column(col)
        for name, e in doc["environments"].items():
            arts = list(e["artifacts"].values())
            digest = ", ".join(a["sha256"][:12] for a in arts) or "-"
            disk = ", ".join((a["on_disk"] or "none")[:12] for a in arts) or "-"
            real = (", ".join((a["actual"] or "none")[:24] for a in arts) or "-",) if actual else ()
            last = e["last_deployment"]
            table.add_row(name, e["live_release"] or "-", digest, disk, *real,
                          f"#{last['id']} {last['action']} {last['release_id']} {last['status']}" if last else "-")
        OUT.print(table)

    emit(app, doc, human)


@click.command("history")
@click.option("--env", "env_name", help="Only this environment.")
@json_option
@click.pass_obj
@command
def history_cmd(app: App, env_name: str | None, as_json: bool) -> None:
    """Deployments, newest first."""
    if env_name:
        app.env(env_name)
    deps = app.store.deployments(env=env_name)

    def human() -> None:
        table = Table(title="deployments")
        for col in ("#", "env", "release", "action", "status", "actor", "started", "reason"):
            table.add_column(col)
        for d in deps:
            table.add_row(str(d.id), d.env, d.release_id, d.action.value, d.status.value, d.actor,
                          d.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), d.reason[:60])
        OUT.print(table)

    emit(app, {"ok": True, "deployments": [d.to_json() for d in deps]}, human)


@click.command("show")
@click.argument("release_id", metavar="RELEASE")
@json_option
@click.pass_obj
@command
def show_cmd(app: App, release_id: str, as_json: bool) -> None:
    """One release: commit, author, artifacts and digests, approvals and deployments per env."""
    release = app.release(release_id)
    approvals = {e: [a.to_json() for a in app.store.approvals(release.id, e)] for e in app.environments}
    deps = [d.to_json() for d in app.store.deployments(release_id=release.id)]
    doc = {"ok": True, "release": release.to_json(), "approvals": approvals, "deployments": deps}

    def human() -> None:
        OUT.print(f"{release.id}  commit {release.git_commit}  author {release.author}  tags "
                  f"{', '.join(release.tags) or '-'}", highlight=False)
        for a in release.artifacts:
            OUT.print(f"  {a.kind.value} {a.name} sha256={a.sha256} ({a.size} bytes)", highlight=False)
        for env, lst in approvals.items():
            for approval in lst:
                OUT.print(f"  approved for {env} by {approval['approver']} at {approval['at']}", highlight=False)
        for d in deps:
            OUT.print(f"  #{d['id']} {d['env']} {d['action']} {d['status']} by {d['actor']}", highlight=False)

    emit(app, doc, human)


@click.command("kinds")
@json_option
@click.pass_obj
@command
def kinds_cmd(app: App, as_json: bool) -> None:
    """The registered artifact kinds (kinds/registry.py), in packaging order, with their roots, gates and verification."""
    from northstar_release.kinds.registry import KINDS

    kinds: list[dict[str, Any]] = [
        {"kind": s.kind.value, "title": s.title, "source_roots": list(s.source_roots), "gates": list(s.gates),
         "entry_point": s.entry_point, "entry_point_target": s.entry_point_target,
         "rollback_verify": s.rollback_verify.value, "verify_env_dependent": s.verify_env_dependent,
         "warm_start": s.warm_start}
        for s in KINDS]

    def human() -> None:
        table = Table(title="artifact kinds (packaging order)")
        for col in ("kind", "source roots", "gates", "entry point", "rollback verify", "verify per env", "warm start"):
            table.add_column(col)
        for k in kinds:
            table.add_row(k["kind"], ", ".join(k["source_roots"]), ", ".join(k["gates"]) or "-",
                          f"{k['entry_point']} ({k['entry_point_target']})", k["rollback_verify"],
                          "yes" if k["verify_env_dependent"] else "no", k["warm_start"] or "-")
        OUT.print(table)

    emit(app, {"ok": True, "kinds": kinds}, human)


@click.command("tables")
@click.option("--env", "env_name", required=True)
@json_option
@click.pass_obj
@command
def tables_cmd(app: App, env_name: str, as_json: bool) -> None:
    """Row count and checksum of every warehouse model as ENV sees it (evidence that an env did not change)."""
    from northstar_release.adapters.warehouse import WarehouseAdapter

    env = app.env(env_name)
    ctx = app.runtime().env_context(env.name)
    tables = WarehouseAdapter().tables(ctx)
    if not tables:
        raise UsageError(f"no warehouse project is live in {env.name}")
    def human() -> None:
        for name, t in sorted(tables.items()):
            OUT.print(f"{name}: {t.get('rows')} rows, checksum {str(t.get('checksum'))[:12]}", highlight=False)

    emit(app, {"ok": True, "environment": env.name, "tables": tables}, human)


