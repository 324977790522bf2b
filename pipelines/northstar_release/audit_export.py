"""``audit export``: everything an auditor asks about one release, as JSON and Markdown.

Why assembled from state rather than logged separately: the records the engine acted on (release, approvals, gate
results, deployments, hash-chained audit entries) *are* the evidence; the export only selects and formats them, and
includes the chain verification result so the reader knows the log was intact when exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from northstar_release.audit import AuditAnchor, VerifyResult
from northstar_release.errors import UsageError
from northstar_release.model import Environment
from northstar_release.state.base import StateStore


def verify_store(store: StateStore, external_anchor: AuditAnchor | None = None) -> VerifyResult:
    """Verify the chain against the store's own anchor and, when given, an anchor kept outside the store, then
    reconcile the approvals, deployments and live tables with it (``state.reconcile.verify_state``).

    Why both anchors: whoever can truncate the log can also rewrite the anchor stored beside it; an anchor exported
    earlier to write-once storage (`./release audit anchor`) still proves the chain once reached that seq with that
    hash."""
    from northstar_release.state.reconcile import verify_state

    return verify_state(store, external_anchor)


def export_release(store: StateStore, release_id: str, environments: Mapping[str, Environment]) -> dict[str, Any]:
    release = store.get_release(release_id)
    if release is None:
        raise UsageError(f"unknown release '{release_id}'")
    deployments = {}
    approvals = {}
    for env in environments:
        deps = store.deployments(env=env, release_id=release_id)
        deployments[env] = [
            {**d.to_json(), "gate_results": [g.to_json() for g in store.gate_results(d.id)] if d.id else []}
            for d in deps
        ]
        approvals[env] = [a.to_json() for a in store.approvals(release_id, env)]
    chain_entries = store.audit_entries()
    entries = [e.to_json() for e in chain_entries if e.release_id == release_id]
    chain = verify_store(store)
    # From the release's first entry to the head: with these every exported entry's hash and every link up to the
    # head can be recomputed from the export alone (scripts/verify-evidence), and the head compared with an anchor
    # the auditor holds. Entries of other releases in between are part of the proof, so they are included whole.
    first = min((e["seq"] for e in entries), default=None)
    segment = [e.to_json() for e in chain_entries if first is not None and e.seq >= first]
    return {
        "release": release.id,
        "who": {"author": release.author,
                "actors": sorted({e["actor"] for e in entries}),
                "approvers": {env: [a["approver"] for a in lst] for env, lst in approvals.items() if lst}},
        "what": {"git_commit": release.git_commit, "created_at": release.created_at.isoformat(),
                 "change_summary": release.change_summary, "tags": list(release.tags),
                 "artifacts": [a.to_json() for a in release.artifacts]},
        "approvals": approvals,
        "deployments": deployments,
        "audit_entries": entries,
        "chain_segment": segment,
        "audit_chain": {"ok": chain.ok, "entries_checked": chain.entries_checked,
                        "first_broken_seq": chain.first_broken_seq, "problem": chain.problem},
    }


def to_markdown(doc: dict[str, Any]) -> str:
    what, who = doc["what"], doc["who"]
    out = [f"# Audit export: {doc['release']}", "",
           f"- **Commit:** `{what['git_commit']}` ({what['created_at']})",
           f"- **Author:** {who['author']}",
           f"- **Summary:** {what['change_summary']}",
           f"- **Tags:** {', '.join(what['tags']) or '-'}",
           f"- **Audit chain:** {'intact' if doc['audit_chain']['ok'] else 'BROKEN at seq ' + str(doc['audit_chain']['first_broken_seq'])}"
           f" ({doc['audit_chain']['entries_checked']} entries checked)", "", "## Artifacts", "",
           "| kind | name | sha256 | size |", "|---|---|---|---|"]
    out += [f"| {a['kind']} | {a['name']} | `{a['sha256']}` | {a['size']} |" for a in what["artifacts"]]
    out += ["", "## Approvals", ""]
    any_approval = False
    for env, lst in doc["approvals"].items():
        for a in lst:
            any_approval = True
            out.append(f"- {env}: **{a['approver']}** at {a['at']}" + (f" — {a['comment']}" if a["comment"] else ""))
    if not any_approval:
        out.append("- none")
    out += ["", "## Deployments", ""]
    for env, deps in doc["deployments"].items():
        for d in deps:
            out.append(f"### {env} #{d['id']}: {d['action']} by {d['actor']} — {d['status']}")
            out.append(f"started {d['started_at']}, finished {d['finished_at']}" + (f"; reason: {d['reason']}" if d["reason"] else ""))
            out.append("")
            for g in d["gate_results"]:
                out.append(f"- gate `{g['gate']}` on {g['target']}: **{g['outcome']}** — {g['summary']}")
            out.append("")
    out += ["## Audit entries", "", "| seq | at | actor | action | env | hash |", "|---|---|---|---|---|---|"]
    out += [f"| {e['seq']} | {e['at']} | {e['actor']} | {e['action']} | {e['env'] or ''} | `{e['hash'][:16]}` |"
            for e in doc["audit_entries"]]
    return "\n".join(out) + "\n"
