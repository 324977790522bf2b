"""The consumers of a relation at the release's commit, for the gates that judge schema changes by who reads them.

Why from git objects (like ``impact.lineage_at``): the gate must see exactly the commit being released, in any
runtime (the CLI tests' sandboxes have no Pants). One ``git ls-tree`` and one ``git cat-file --batch``.
"""

from __future__ import annotations

from pathlib import Path

from northstar_lineage.consumers import ConsumerIndex
from northstar_lineage.dbt_parse import LineageParseError
from northstar_lineage.graph import build_lineage, relevant_file
from northstar_release import gitutil
from northstar_release.errors import UsageError
from northstar_release.gates.base import GateContext

DAG_ROOTS = ("airflow/dags/", "legacy/legacy_dags/")


def consumer_index(repo: Path, commit: str) -> ConsumerIndex:
    """Lineage + file reader of ``commit``. Raises ``LineageParseError`` naming a file that does not parse."""
    entries = gitutil.list_tree(repo, commit, ".")
    dag_files = [p for p, _ in entries if p.startswith(DAG_ROOTS) and p.endswith(".py")]
    wanted = [(p, oid) for p, oid in entries if relevant_file(p) or p in dag_files]
    texts = {p: blob.decode("utf-8", errors="replace")
             for (p, _), blob in zip(wanted, gitutil.read_blobs(repo, [oid for _, oid in wanted]), strict=True)}
    contents = {p: t for p, t in texts.items() if relevant_file(p)}
    lineage = build_lineage(contents, [p for p, _ in entries])
    return ConsumerIndex(lineage, contents, lambda path: texts.get(path, ""), dag_files)


def index_for(ctx: GateContext) -> tuple[ConsumerIndex | None, str | None]:
    """The release commit's consumer index, or None and why (no repository known to this runtime, bad files)."""
    if ctx.repo is None:
        return None, "consumers unknown: the release's repository is not available to this runtime"
    try:
        return consumer_index(ctx.repo, ctx.release.git_commit), None
    except (LineageParseError, UsageError) as exc:
        return None, f"consumers unknown: {exc}"


def catalog_at(repo: Path, commit: str) -> dict[str, str]:
    """The pipeline catalog's YAML files at ``commit`` (path -> text)."""
    entries = [(p, oid) for p, oid in gitutil.list_tree(repo, commit, "pipelines/catalog") if relevant_file(p)]
    return {p: blob.decode("utf-8", errors="replace")
            for (p, _), blob in zip(entries, gitutil.read_blobs(repo, [oid for _, oid in entries]), strict=True)}
