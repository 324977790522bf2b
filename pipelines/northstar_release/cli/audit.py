"""``./release audit anchor / verify / export``: the tamper-evident audit log."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from northstar_release.cli.app import OUT, App, command, emit, json_option
from northstar_release.errors import Blocked, UsageError


# --------------------------------------------------------------------------------------------------------- audit ---
@click.group("audit")
def audit_group() -> None:
    """Tamper-evident audit log: verify the hash chain, export evidence per release."""


@audit_group.command("anchor")
@click.option("--output", type=click.Path(path_type=Path), help="Also write the anchor JSON to FILE.")
@json_option
@click.pass_obj
@command
def audit_anchor_cmd(app: App, output: Path | None, as_json: bool) -> None:
    """Print the chain head (seq and hash) to keep in write-once storage; `audit verify --anchor FILE` checks it."""
    from northstar_release.audit_export import verify_store

    result = verify_store(app.store)
    if not result.ok:
        raise Blocked(f"audit chain broken at seq {result.first_broken_seq}: refusing to anchor it", [result.problem])
    entries = app.store.audit_entries()
    anchor = {"seq": entries[-1].seq if entries else 0, "hash": entries[-1].hash if entries else "0" * 64,
              "exported_at": datetime.now(UTC).isoformat(), "state": app.store.url}
    if output:
        from northstar_release.fsutil import atomic_write

        atomic_write(output, (json.dumps(anchor, indent=2) + "\n").encode())
    emit(app, {"ok": True, "anchor": anchor, "output": str(output) if output else None},
         lambda: OUT.print(f"audit anchor: seq {anchor['seq']} hash {anchor['hash']}"
                           + (f" (written to {output})" if output else ""), highlight=False))


@audit_group.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(path_type=Path, dir_okay=False),
              help="An anchor exported earlier with `audit anchor`: the chain must still contain it (detects truncation "
                   "even when the anchor stored beside the log was rewritten).")
@json_option
@click.pass_obj
@command
def audit_verify_cmd(app: App, anchor_file: Path | None, as_json: bool) -> None:
    """Verify the audit hash chain; exit 1 naming the first broken seq."""
    from northstar_release.audit import AuditAnchor
    from northstar_release.audit_export import verify_store

    external = None
    if anchor_file is not None:
        try:
            external = AuditAnchor.from_json(json.loads(anchor_file.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{anchor_file}: not an audit anchor exported by `./release audit anchor` ({exc})") from exc
    from northstar_release.cli.hotfix import review_status

    result = verify_store(app.store, external)
    # Emergency changes (hotfix lane) whose mandatory post-hoc review is missing past its deadline, or came late.
    overdue = [r for r in review_status(app)[0] if r["overdue"]]
    doc = {"ok": result.ok and not overdue, "entries_checked": result.entries_checked,
           "first_broken_seq": result.first_broken_seq, "problem": result.problem, "scope": result.scope,
           "overdue_reviews": overdue}
    if result.ok and overdue:
        reasons = [f"{r['release_id']} in {r['env']}: post-hoc review due {r['due_at']}, "
                   + (f"recorded late at {r['reviewed_at']}" if r["reviewed_at"] else "not recorded")
                   + f" -- ./release hotfix review {r['release_id']} --env {r['env']} --comment ..." for r in overdue]
        if app.json:
            emit(app, doc, lambda: None)
            sys.exit(1)
        raise Blocked(f"audit chain intact ({result.entries_checked} entries), but {len(overdue)} emergency change "
                      "review(s) overdue", reasons)
    if result.ok:
        emit(app, doc, lambda: OUT.print(f"audit chain intact: {result.entries_checked} entries verified",
                                         highlight=False))
        return
    if app.json:
        emit(app, doc, lambda: None)
        sys.exit(1)
    if result.scope == "state":
        raise Blocked("audit verification failed: state tables disagree with the audit chain", [result.problem])
    raise Blocked(f"audit chain broken at seq {result.first_broken_seq}", [result.problem])


@audit_group.command("export")
@click.argument("release_id", metavar="RELEASE")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"]), default="json")
@click.option("--output", type=click.Path(path_type=Path), help="Write to FILE instead of stdout.")
@json_option
@click.pass_obj
@command
def audit_export_cmd(app: App, release_id: str, fmt: str, output: Path | None, as_json: bool) -> None:
    """Who, what, approvals, gate results, digests and deployments per env for RELEASE."""
    from northstar_release.audit_export import export_release, to_markdown

    doc = export_release(app.store, release_id, app.environments)
    text = to_markdown(doc) if fmt == "markdown" and not as_json else json.dumps(doc, indent=2, sort_keys=True)
    if output:
        output.write_text(text if text.endswith("\n") else text + "\n")
        if as_json:
            click.echo(json.dumps({"ok": True, "output": str(output), "format": fmt}))
        else:
            OUT.print(f"wrote {output}", highlight=False)
    else:
        click.echo(text)


