"""spark_consumers: before the switch, every Spark job's declared output is checked against the consumers of the
bronze table it writes; a column a consumer uses that the job no longer writes, or writes with another type, blocks
and names the consumer (model + column).

Why before the switch: the Spark adapter verifies a job against its own ``OUTPUT_SCHEMA`` after the switch; a job
that drops ``user_agent_family`` still matches its own schema and the staging model reading that column breaks at
the next run, in production. This gate reads, at the release's commit, each job's declared output
(``northstar_lineage.spark_outputs``: the catalog's bronze table contract the job's ``bronze_schema`` is built from)
and its consumers (``northstar_lineage.consumers``: the dbt models whose ``source()`` reads the table, with the
columns they use -- sqlglot column-level lineage over the rendered model SQL -- and SQL in DAG files). Types are
compared with the declared output of the commit live in the furthest environment (``baseline_commit``): a used
column whose type changed since then blocks, old and new type named.

It runs when the release carries a Spark job or a warehouse project (either side of the contract may move); it
needs the release's repository (else it fails: a control that cannot run must not pass). Environment-dependent: the
baseline is what is live. But the verdict is a function of two commits only (the release's and the baseline, both
read from git), so a promotion whose baseline is the commit the previous env's passed run used -- the usual case:
prod's live commit is the baseline at every step of one release's way to prod -- reuses that evidence, recorded with
a pointer to it (``_same_baseline``), instead of re-parsing ~200 models (~3 s).
"""

from __future__ import annotations

from typing import Any

from northstar_lineage.spark_outputs import SparkOutput, spark_outputs
from northstar_release.gates.base import GateContext, mark_reused
from northstar_release.gates.consumer_lookup import catalog_at, index_for
from northstar_release.model import ArtifactKind, GateOutcome, GateResult

KINDS = (ArtifactKind.SPARK_JOB, ArtifactKind.WAREHOUSE_PROJECT)


def _findings(output: SparkOutput, baseline: SparkOutput | None, consumers: list[Any]) -> list[dict[str, Any]]:
    declared = dict(output.columns)
    before = dict(baseline.columns) if baseline is not None else {}
    found = []
    for consumer in consumers:
        used = consumer.columns if consumer.columns is not None else tuple(sorted(set(declared) | set(before)))
        for column in used:
            new_type = declared.get(column)
            old_type = before.get(column)
            if new_type is None:
                change = f"{column} is no longer written" + (f" (was {old_type})" if old_type else "")
            elif old_type is not None and old_type != new_type:
                change = f"{column} retyped {old_type} -> {new_type}"
            else:
                continue
            found.append({"job": output.job, "relation": output.relation, "column": column, "old_type": old_type,
                          "new_type": new_type, "consumer": consumer.name, "consumer_kind": consumer.kind,
                          "consumer_path": consumer.path,
                          "message": f"Spark job {output.job} -> {output.relation}: {change}; used by "
                                     f"{consumer.kind} {consumer.name} ({consumer.how})"})
    return found


def _same_baseline(ctx: GateContext) -> list[GateResult]:
    """The previous env's passed results for this release when every one was computed against ``ctx``'s baseline
    commit (recorded in its evidence), re-pointed at their original audit entry; else [] and the gate runs."""
    ref = ctx.prior_ref
    if ref is None or not ctx.prior:
        return []
    for r in ctx.prior:
        if r.outcome != GateOutcome.PASSED or "baseline_commit" not in r.evidence:
            return []
        if r.evidence["baseline_commit"] != ctx.baseline_commit:
            return []
    base = (ctx.baseline_commit or "none")[:12]
    return mark_reused(ctx.prior, ref, why=f"same release commit, same baseline {base}")


class SparkConsumersGate:
    name = "spark_consumers"
    description = ("each Spark job's declared bronze output keeps every column its consumers use (dbt models via "
                   "sqlglot column lineage, DAG SQL) with the type live today; names consumer model + column")

    kind = ArtifactKind.SPARK_JOB
    environment_dependent = True

    def evaluate(self, ctx: GateContext) -> list[GateResult]:
        reused = _same_baseline(ctx)
        if reused:
            return reused
        if not any(a.kind in KINDS for a in ctx.release.artifacts):
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                               summary="release carries no Spark job or warehouse project")]
        index, why = index_for(ctx)
        if index is None or ctx.repo is None:
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED,
                               summary=f"cannot check Spark outputs against their consumers: {why}")]
        outputs = spark_outputs(index.contents)
        base = ({(o.job, o.relation): o for o in spark_outputs(catalog_at(ctx.repo, ctx.baseline_commit))}
                if ctx.baseline_commit else {})
        findings: list[dict[str, Any]] = []
        checked: dict[str, list[str]] = {}
        for output in outputs:
            wanted = dict(output.columns) | dict(base[(output.job, output.relation)].columns
                                                 if (output.job, output.relation) in base else ())
            consumers = index.source_consumers(output.relation, wanted)
            checked[f"{output.job} -> {output.relation}"] = [
                f"{c.kind} {c.name}: {', '.join(c.columns) if c.columns is not None else 'all columns'}"
                for c in consumers]
            findings += _findings(output, base.get((output.job, output.relation)), consumers)
        evidence = {"baseline_commit": ctx.baseline_commit, "outputs_checked": len(outputs), "consumers": checked,
                    "findings": findings}
        if findings:
            summary = "; ".join(dict.fromkeys(f["message"] for f in findings))
            return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.FAILED, summary=summary,
                               evidence=evidence)]
        n = sum(len(v) for v in checked.values())
        return [GateResult(gate=self.name, target=ctx.release.id, outcome=GateOutcome.PASSED,
                           summary=f"{len(outputs)} Spark output(s) checked against {n} consumer(s): every used "
                                   f"column is written with its live type", evidence=evidence)]
