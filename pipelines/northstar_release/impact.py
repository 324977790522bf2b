"""Per-change downstream impact across tools (dbt models and tests, Airflow DAGs, Spark jobs, topic schemas) and the
policy tags it reaches, read in-process from a commit.

Why in-process and not from Pants: it is the *same* lineage module the Pants plugin infers dependencies with
(``pipelines/northstar_lineage``, one parser, one source of truth), but read straight from git objects it
needs no Pants daemon (cold Pants costs 15-25 s per ``plan``/``build``), sees exactly the commit being released (not
the working tree), and works wherever the engine runs -- including the CLI tests' sandboxes, which have no Pants. When
``./pants`` exists, ``changes.py`` still asks it for the dependents Pants alone knows (Python imports, lockfiles).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from northstar_lineage.dbt_parse import LineageParseError
from northstar_lineage.graph import Lineage, build_lineage, relevant_file
from northstar_release import gitutil
from northstar_release.errors import UsageError

POLICY_TAGS = ("finance",)


def lineage_at(repo: Path, commit: str) -> Lineage:
    """The lineage of ``commit``. Bad dbt Jinja or YAML is bad input: ``UsageError`` naming the file (exit 2)."""
    entries = gitutil.list_tree(repo, commit, ".")
    wanted = [(path, oid) for path, oid in entries if relevant_file(path)]
    contents = {path: blob.decode("utf-8", errors="replace")
                for (path, _), blob in zip(wanted, gitutil.read_blobs(repo, [oid for _, oid in wanted]), strict=True)}
    try:
        return build_lineage(contents, [path for path, _ in entries])
    except LineageParseError as exc:
        raise UsageError(f"lineage: {exc}") from exc


@dataclass
class ChangeImpact:
    """What one changed file reaches downstream, grouped by tool, and the policy tags on that path."""

    path: str
    kind: str  # the lineage node kind, or "other" when lineage does not know the file
    models: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    dags: list[str] = field(default_factory=list)
    spark_jobs: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    policy_reasons: list[str] = field(default_factory=list)  # e.g. "finance: fct_gift_cards (model)"
    gates: list[str] = field(default_factory=list)  # filled by changes.py from the KindSpecs of the kinds reached
    reached: list[str] = field(default_factory=list)  # paths of every node reached (not itself)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "models": self.models, "tests": self.tests, "dags": self.dags,
                "spark_jobs": self.spark_jobs, "topics": self.topics, "tags": self.tags,
                "policy_reasons": self.policy_reasons, "gates": self.gates}

    def group_for(self, node_kind: str) -> list[str] | None:
        """The list a reached lineage node of ``node_kind`` is shown in (None: a kind no group shows)."""
        groups = {"model": self.models, "snapshot": self.models, "seed": self.models, "test": self.tests,
                  "yaml": self.tests, "dag": self.dags, "spark_job": self.spark_jobs, "schema": self.topics}
        return groups.get(node_kind)

    def absorb(self, part: ChangeImpact) -> None:
        """Add ``part``'s reached nodes and policy reasons (first-seen order, no duplicates) and its tags: one impact
        for a change that reaches through several nodes (a Spark lockfile reaches every Spark job)."""
        for mine, theirs in ((self.models, part.models), (self.tests, part.tests), (self.dags, part.dags),
                             (self.spark_jobs, part.spark_jobs), (self.topics, part.topics),
                             (self.policy_reasons, part.policy_reasons), (self.reached, part.reached)):
            mine.extend(x for x in theirs if x not in mine)
        self.tags = sorted(set(self.tags) | set(part.tags))


def impact_of(lineage: Lineage, changed: Iterable[str]) -> list[ChangeImpact]:
    """One ``ChangeImpact`` per changed file (sorted), listing every node it reaches except itself."""
    out = []
    for path in sorted(set(changed)):
        node = lineage.nodes.get(path)
        impact = ChangeImpact(path=path, kind=node.kind if node else "other")
        reached = lineage.dependents([path])
        tags: set[str] = set()
        for other, _distance in sorted(reached.items(), key=lambda kv: (kv[1], kv[0])):
            n = lineage.nodes[other]
            tags |= n.tags
            for tag in sorted(n.tags & set(POLICY_TAGS)):
                impact.policy_reasons.append(f"{tag}: {n.name} ({n.kind}{', changed' if other == path else ''})")
            group = impact.group_for(n.kind)
            if other != path:
                impact.reached.append(other)
            if other != path and group is not None:
                group.append(n.name if n.kind != "yaml" else n.path)
        impact.tags = sorted(tags & set(POLICY_TAGS))  # release tags carry policy tags only, not dbt labels
        out.append(impact)
    return out


def all_policy_tags(lineage: Lineage) -> set[str]:
    """Policy tags carried anywhere (a first release ships everything)."""
    return {t for n in lineage.nodes.values() for t in n.tags if t in POLICY_TAGS}
