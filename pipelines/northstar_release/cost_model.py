"""The platform's incremental monthly cost per stack and per component, and its headroom under the budget.

Why this exists beside the ``infra_cost`` gate: the gate prices what a *release changes* against what is deployed;
a budget question ("does the redesign fit in +$15K/month?") needs the *level*: every stack's estimate split by
component, and which of it is new spend. The estimates are the gate's own -- ``infra_check preview`` (the Pulumi
program under mocks with ``infra/Pulumi.<stack>.yaml``, priced by the newest ``infra/pricing/*.yaml``) -- and this
module only sorts their lines into components and applies ``infra/cost-model.yaml``:

* ``baseline``: components today's production estate already pays for. In prod those lines are the existing estate
  re-declared, not incremental; dev and staging are new stacks, so all of their lines are incremental.
* ``undeclared``: components the redesign adds that the program does not declare (release state store, monitoring),
  each with its quantity and list price, marked as such in the output: the gate does not see them.

A line this module cannot classify is an error naming the resource, never silently dropped: a new resource type in
the program must get a component before its cost can disappear from the budget view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from northstar_release.errors import ConfigError, UsageError

MODEL_PATH = "infra/cost-model.yaml"
GOAL_HEADROOM_PCT = 30.0
SHARED = "shared"  # lines of the cost model that belong to no single stack (one release state for all envs)

ComponentId = Literal["emr", "airflow", "kafka", "s3_storage", "s3_requests", "kms", "secrets", "data_transfer",
                      "artifact_store", "release_state", "monitoring"]
COMPONENTS: dict[str, str] = {
    "emr": "EMR (Spark on EMR Serverless)",
    "airflow": "Airflow (MWAA)",
    "kafka": "Kafka (MSK)",
    "s3_storage": "S3 storage (raw, bronze)",
    "s3_requests": "S3 requests",
    "kms": "KMS (data key, requests)",
    "secrets": "Secrets Manager",
    "data_transfer": "data transfer",
    "artifact_store": "release artifact store (S3 + key)",
    "release_state": "release state store",
    "monitoring": "monitoring",
}

# Resource types of infra/northstar_infra/cost.py, by component. Artifact bucket and key are named northstar-artifacts-*.
_BY_TYPE = {
    "aws:emrserverless/application:Application": "emr", "aws:emr/cluster:Cluster": "emr",
    "aws:mwaa/environment:Environment": "airflow", "aws:eks/cluster:Cluster": "airflow",
    "aws:eks/nodeGroup:NodeGroup": "airflow", "aws:msk/cluster:Cluster": "kafka",
    "aws:s3/bucket:Bucket": "s3_storage", "aws:s3/bucketV2:BucketV2": "s3_storage", "aws:kms/key:Key": "kms",
    "aws:secretsmanager/secret:Secret": "secrets",  # pragma: allowlist secret (a type token)
}
_STACK_ITEMS = {"S3 PUT requests": "s3_requests", "S3 GET requests": "s3_requests", "KMS requests": "kms",
                "Secrets Manager API calls": "secrets", "data transfer out": "data_transfer",
                "cross-AZ transfer": "data_transfer"}
ARTIFACT_PREFIX = "northstar-artifacts-"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumptions(_Strict):
    batch_tb_per_day: float = Field(gt=0)
    kafka_events_per_second: int = Field(gt=0)
    releases_per_day: tuple[int, int]
    artifact_mb_per_release: float = Field(gt=0)


class Undeclared(_Strict):
    component: ComponentId
    stack: str
    item: str
    quantity: float = Field(ge=0)
    unit: str
    unit_price_usd: float = Field(ge=0)


class CostModel(_Strict):
    version: str
    assumptions: Assumptions
    baseline: dict[str, list[ComponentId]] = Field(default_factory=dict)
    undeclared: list[Undeclared] = Field(default_factory=list)


def parse_model(data: Any, name: str = MODEL_PATH) -> CostModel:
    """Validate the cost model; every problem names the file, the key path and the rule (exit 2)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: invalid cost model", [f"{name}: <root>: must be a mapping"])
    try:
        return CostModel.model_validate(data)
    except ValidationError as exc:
        reasons = [f"{name}: {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{name}: invalid cost model ({len(reasons)} problem(s))", reasons) from None


def classify(resource: str, item: str) -> str:
    """The component of one cost line (``resource`` is ``type::name`` or ``stack::<stack>``)."""
    rtype, _, name = resource.partition("::")
    if rtype == "stack":
        component = _STACK_ITEMS.get(item)
    elif rtype in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:kms/key:Key") and \
            name.startswith(ARTIFACT_PREFIX):
        component = "artifact_store"
    else:
        component = _BY_TYPE.get(rtype)
    if component is None:
        raise UsageError(f"cost line '{item}' of {resource} belongs to no component",
                         [f"add its resource type or item to northstar_release/cost_model.py ({len(COMPONENTS)} "
                          "components): a cost the budget view cannot place must not disappear from it"])
    return component


@dataclass
class Cell:
    """One (stack, component) figure and where it came from."""

    stack: str
    component: str
    monthly_usd: float
    incremental: bool
    source: str  # "program" (infra_check preview, the gate's estimate) or "cost model" (undeclared, list price)
    items: list[str] = field(default_factory=list)


@dataclass
class Summary:
    budget_usd: float
    price_table: str
    price_table_sha256: str
    stack_totals: dict[str, float]  # what infra_check preview reported per stack (the gate's figure)
    cells: list[Cell]
    notes: list[str]

    def incremental_by_component(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.cells:
            if c.incremental:
                out[c.component] = round(out.get(c.component, 0.0) + c.monthly_usd, 2)
        return {k: out[k] for k in COMPONENTS if k in out}

    @property
    def incremental_usd(self) -> float:
        return round(sum(c.monthly_usd for c in self.cells if c.incremental), 2)

    @property
    def all_in_usd(self) -> float:
        """Every line, as if today's prod estate did not exist (the figure that does not fit, for the record)."""
        return round(sum(c.monthly_usd for c in self.cells), 2)

    @property
    def headroom_usd(self) -> float:
        return round(self.budget_usd - self.incremental_usd, 2)

    @property
    def headroom_pct(self) -> float:
        return round(self.headroom_usd / self.budget_usd * 100, 1) if self.budget_usd else 0.0

    def verdict(self) -> str:
        if self.incremental_usd > self.budget_usd:
            return (f"DOES NOT FIT: incremental ${self.incremental_usd:,.2f}/month is over the ${self.budget_usd:,.2f} "
                    "budget")
        if self.headroom_pct < GOAL_HEADROOM_PCT:
            return (f"fits, but headroom {self.headroom_pct:.1f}% is under the {GOAL_HEADROOM_PCT:g}% goal: "
                    f"largest incremental components: {self._largest()}")
        return f"fits with {self.headroom_pct:.1f}% headroom (goal >= {GOAL_HEADROOM_PCT:g}%)"

    def _largest(self) -> str:
        top = sorted(self.incremental_by_component().items(), key=lambda kv: -kv[1])[:3]
        return ", ".join(f"{COMPONENTS[k]} ${v:,.2f}" for k, v in top)

    def to_json(self) -> dict[str, Any]:
        stacks: dict[str, dict[str, Any]] = {}
        for c in self.cells:
            entry = stacks.setdefault(c.stack, {"monthly_usd": 0.0, "components": {}})
            entry["components"][c.component] = {"monthly_usd": c.monthly_usd, "incremental": c.incremental,
                                                "source": c.source, "items": c.items}
            entry["monthly_usd"] = round(entry["monthly_usd"] + c.monthly_usd, 2)
        return {"ok": True, "budget_usd": self.budget_usd, "price_table": self.price_table,
                "price_table_sha256": self.price_table_sha256, "program_stack_totals": self.stack_totals,
                "stacks": stacks, "components": COMPONENTS,
                "incremental": {"by_component": self.incremental_by_component(), "total_usd": self.incremental_usd,
                                "headroom_usd": self.headroom_usd, "headroom_pct": self.headroom_pct,
                                "goal_headroom_pct": GOAL_HEADROOM_PCT,
                                "meets_goal": self.headroom_pct >= GOAL_HEADROOM_PCT, "verdict": self.verdict()},
                "all_in_usd": self.all_in_usd, "notes": self.notes}


def summarize(estimates: Mapping[str, Any], model: CostModel, budget_usd: float,
              stack_configs: Mapping[str, Mapping[str, Any]]) -> Summary:
    """Per (stack, component) cells from each stack's ``CostEstimate`` (infra_check preview) plus the model's
    undeclared lines; ``stack_configs`` (the stack files' ``config`` mappings) only feed the assumption notes."""
    cells: dict[tuple[str, str], Cell] = {}
    first = next(iter(estimates.values()), None)
    s3_price = next((line.unit_price_usd for e in estimates.values() for line in e.lines
                     if line.item.startswith("S3 storage")), 0.0)
    for stack, est in estimates.items():
        existing = set(model.baseline.get(stack, []))
        for line in est.lines:
            component = classify(line.resource, line.item)
            cell = cells.setdefault((stack, component), Cell(stack, component, 0.0, component not in existing,
                                                             "program"))
            cell.monthly_usd = round(cell.monthly_usd + line.monthly_usd, 2)
            cell.items.append(f"{line.item} ${line.monthly_usd:,.2f}")
    for u in model.undeclared:
        cost = round(u.quantity * u.unit_price_usd, 2)
        cell = cells.setdefault((u.stack, u.component), Cell(u.stack, u.component, 0.0, True, "cost model"))
        if cell.source != "cost model":
            raise ConfigError(f"{MODEL_PATH}: undeclared line '{u.item}' is for {u.component} in {u.stack}, which "
                              "the program already declares", [f"{MODEL_PATH}: undeclared: {u.component} is priced "
                                                               "by infra_check preview for that stack"])
        cell.monthly_usd = round(cell.monthly_usd + cost, 2)
        cell.items.append(f"{u.item}: {u.quantity:g} {u.unit} x ${u.unit_price_usd:g} = ${cost:,.2f}")
    order = {s: i for i, s in enumerate([*estimates, SHARED])}
    ordered = sorted(cells.values(), key=lambda c: (order.get(c.stack, len(order)), list(COMPONENTS).index(c.component)))
    return Summary(budget_usd=budget_usd, price_table=first.price_table if first else "",
                   price_table_sha256=first.price_table_sha256 if first else "",
                   stack_totals={s: e.monthly_usd for s, e in estimates.items()}, cells=ordered,
                   notes=assumption_notes(model, stack_configs, s3_price))


def assumption_notes(model: CostModel, configs: Mapping[str, Mapping[str, Any]], s3_gb_month_usd: float) -> list[str]:
    """Where the price model uses each workload assumption, with the figures the stack files declare."""
    a = model.assumptions
    notes = []
    prod = configs.get("prod") or {}
    sizing, usage = prod.get("northstar:sizing") or {}, prod.get("northstar:costUsage") or {}
    if sizing:
        retention = sizing.get("rawRetentionDays", 0)
        raw_gb = (usage.get("s3StorageGb") or {}).get("raw", 0)
        notes.append(f"{a.batch_tb_per_day:g} TB/day batch: prod EMR Serverless ceiling {sizing.get('emrMaxVcpu')} vCPU "
                     f"/ {sizing.get('emrMaxMemoryGb')} GB busy {usage.get('emrBusyHoursPerMonth')} h/month (priced "
                     f"as an upper bound); raw storage declared {raw_gb:,} GB for {retention} days of retention, i.e. "
                     f"{raw_gb / max(retention, 1) / 1000:.2f} TB kept per day of {a.batch_tb_per_day:g} TB/day ingested: "
                     f"the declared figure presumes compressed storage (kept as ingested it would be "
                     f"{a.batch_tb_per_day * retention:,.0f} TB); prod storage is existing estate either way")
        notes.append(f"{a.kafka_events_per_second:,} events/s: prod MSK {sizing.get('kafkaBrokers')} x "
                     f"{sizing.get('kafkaInstanceType')} (existing estate); staging runs its own smaller MSK "
                     f"(incremental), dev uses the shared dev cluster (not in the program)")
    low, high = a.releases_per_day
    growth_gb = high * 30 * a.artifact_mb_per_release / 1024
    declared = {s: ((configs.get(s) or {}).get("northstar:costUsage") or {}).get("s3StorageGb", {}).get("artifacts")
                for s in configs}
    notes.append(f"{low}-{high} releases/day: at {high}/day x {a.artifact_mb_per_release:g} MB (every kind rebuilt) "
                 f"an environment's artifact store grows <= {growth_gb:,.0f} GB/month, "
                 f"${growth_gb * s3_gb_month_usd:,.2f}/month per month kept at ${s3_gb_month_usd:g}/GB-month; "
                 "declared artifact storage " + ", ".join(f"{s} {gb} GB" for s, gb in declared.items() if gb is not None)
                 + "; content-addressed, so an unchanged artifact is stored once. Release-state rows per release are "
                   "a few KB: the state store's size is set by its instance, not by the release rate")
    notes.append("not priced: Snowflake (outside AWS and the program), CI runners (GitHub Actions, already paid), "
                 "the shared dev Kafka cluster, EMR Serverless below its ceiling (the estimate is an upper bound)")
    return notes
