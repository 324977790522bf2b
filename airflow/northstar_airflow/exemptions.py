"""Recorded exemptions for legacy pass-through DAGs (``legacy/dag_exemptions.yaml``): who owns the debt, until when.

A legacy DAG is always checked for import errors, duplicate dag_ids, files without a DAG and task cycles (the
scheduler would lose or misattribute DAGs). Every other finding (owner/retries/tags policies, parse time, Spark
pointer, SLA) blocks it like any new DAG unless an unexpired exemption names the file. Why expiry dates: a
pass-through without an end date is permanent; when it expires the release fails naming the file and the owner, who
then rewrites the DAG (moves it to airflow/dags) or renews the exemption in review.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # pants: no-infer-dep  (installed with apache-airflow)
from pydantic import BaseModel, ConfigDict, Field, ValidationError  # pants: no-infer-dep  (with apache-airflow)

from northstar_contracts.airflow import (
    NEVER_EXEMPT,
    RULE_EXEMPTION_EXPIRED,
    RULE_EXEMPTION_UNKNOWN_FILE,
    ExemptedFinding,
    PolicyViolation,
)
from northstar_contracts.harness import UsageError


class Exemption(BaseModel):
    """One legacy file's exemption; ``file`` is relative to the pass-through folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: date
    reason: str = Field(min_length=1)


class ExemptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    exemptions: list[Exemption]


def load(path: Path | None) -> dict[str, Exemption]:
    """``file -> exemption``; a malformed file is a usage error naming the file and the field."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = ExemptionsFile.model_validate(data if data is not None else {"exemptions": []})
    except yaml.YAMLError as exc:
        raise UsageError(f"{path.name}: not valid YAML: {exc}", file=str(path)) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"{path.name}: {problems}", file=str(path)) from None
    out: dict[str, Exemption] = {}
    for ex in parsed.exemptions:
        if ex.file in out:
            raise UsageError(f"{path.name}: {ex.file} is exempted twice", file=str(path))
        out[ex.file] = ex
    return out


@dataclasses.dataclass
class Applied:
    blocking: list[PolicyViolation]
    exempted: list[ExemptedFinding]


def apply(findings: dict[str, list[PolicyViolation]], legacy_files: dict[str, str], exemptions: dict[str, Exemption],
          *, today: date, exemptions_name: str) -> Applied:
    """Split legacy findings into blocking and exempted.

    ``findings``: display path -> violations of every legacy file; ``legacy_files``: display path -> path relative
    to its pass-through folder (the key of the exemptions file).
    """
    out = Applied(blocking=[], exempted=[])
    for display, relative in sorted(legacy_files.items()):
        ex = exemptions.get(relative)
        valid = ex is not None and ex.expires >= today
        if ex is not None and not valid:
            out.blocking.append(PolicyViolation(
                dag_id=None, file=display, rule=RULE_EXEMPTION_EXPIRED,
                message=f"legacy exemption for {relative} (owner {ex.owner}) expired on {ex.expires.isoformat()}: "
                        f"{ex.owner} must rewrite the DAG to the current policies or renew it in {exemptions_name}"))
        for finding in findings.get(display, []):
            if valid and ex is not None and finding.rule not in NEVER_EXEMPT:
                out.exempted.append(ExemptedFinding(finding=finding, owner=ex.owner, expires=ex.expires.isoformat()))
            else:
                out.blocking.append(finding)
    for relative in sorted(set(exemptions) - set(legacy_files.values())):
        out.blocking.append(PolicyViolation(
            dag_id=None, file=exemptions_name, rule=RULE_EXEMPTION_UNKNOWN_FILE,
            message=f"exemption for {relative} (owner {exemptions[relative].owner}) names no shipped legacy DAG "
                    "file: remove it"))
    return out
