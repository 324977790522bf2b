"""Monthly cost estimate of a stack from the resources the program declares, a versioned price table and the stack's
declared usage.

Why from declared resources: the estimate must follow the program, not a hand-kept spreadsheet. Each priced resource
type has one rule below that reads the resource's own inputs (instance types and counts, capacity, environment
class) and multiplies by the price table (``infra/pricing/<version>.yaml``). What the resources cannot say -- how
many hours the EMR Serverless capacity is busy, how many GB sit in each bucket, requests, transfer -- is declared per
stack as ``northstar:costUsage`` in ``Pulumi.<stack>.yaml``, reviewed like sizing. Types without a rule (IAM, SSM
standard parameters, bucket sub-resources) cost nothing at list price and are not listed.

EMR Serverless is priced as its capacity ceiling (``maximumCapacity``) busy for ``emrBusyHoursPerMonth``: an upper
bound, which is what a budget gate wants. EMR on EC2 (``aws:emr/cluster:Cluster``), EKS node groups and EC2
instances are priced always-on (730 h) per instance.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from northstar_contracts.infra import CostEstimate, CostLine

EMR_SERVERLESS = "aws:emrserverless/application:Application"
EMR_CLUSTER = "aws:emr/cluster:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EC2_INSTANCE = "aws:ec2/instance:Instance"
MWAA = "aws:mwaa/environment:Environment"
MSK = "aws:msk/cluster:Cluster"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105  # pragma: allowlist secret (a type token)

USAGE_KEY = "northstar:costUsage"
USAGE_NUMBERS = ("emrBusyHoursPerMonth", "s3PutRequestsMillions", "s3GetRequestsMillions", "kmsRequestsMillions",
                 "secretsApiCallsMillions", "transferOutGb", "crossAzTransferGb")
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(vCPU|GB)?\s*$", re.IGNORECASE)


class CostError(ValueError):
    """The price table or the usage declaration breaks a rule; the message names the file or key and the rule."""


@dataclass(frozen=True)
class PriceTable:
    version: str
    sha256: str
    data: Mapping[str, Any]

    def price(self, *path: str) -> float:
        node: Any = self.data
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                raise CostError(f"price table {self.version}: no price for {'.'.join(path)}")
            node = node[key]
        if not isinstance(node, int | float) or isinstance(node, bool) or node < 0:
            raise CostError(f"price table {self.version}: {'.'.join(path)} must be a non-negative number")
        return float(node)

    @property
    def hours(self) -> float:
        return self.price("hours_per_month")


def load_prices(path: Path) -> PriceTable:
    import yaml

    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as exc:
        raise CostError(f"cannot read price table {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CostError(f"price table {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise CostError(f"price table {path}: needs a top-level mapping with a 'version' string")
    return PriceTable(version=data["version"], sha256=hashlib.sha256(raw).hexdigest(), data=data)


def parse_usage(value: Any) -> dict[str, Any]:
    """``northstar:costUsage`` (a mapping, or its JSON text as Pulumi config hands it over); missing means zero."""
    import json

    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise CostError(f"{USAGE_KEY} must be a mapping: {exc}") from exc
    if not isinstance(value, dict):
        raise CostError(f"{USAGE_KEY} must be a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - {*USAGE_NUMBERS, "s3StorageGb"})
    if unknown:
        raise CostError(f"{USAGE_KEY}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(USAGE_NUMBERS)}, "
                        f"s3StorageGb)")
    for key in USAGE_NUMBERS:
        number = value.get(key, 0)
        if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
            raise CostError(f"{USAGE_KEY}.{key} must be a non-negative number, got {number!r}")
    storage = value.get("s3StorageGb", {})
    if not isinstance(storage, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in storage.values()):
        raise CostError(f"{USAGE_KEY}.s3StorageGb must map a bucket role (raw, bronze, artifacts) to GB >= 0")
    return dict(value)


def _quantity(text: Any, unit: str) -> float:
    match = _QUANTITY.match(str(text))
    if not match or (match.group(2) and match.group(2).lower() != unit.lower()):
        raise CostError(f"cannot read {text!r} as {unit}")
    return float(match.group(1))


def _line(resource: Any, item: str, quantity: float, unit: str, unit_price: float) -> CostLine:
    return CostLine(resource=f"{resource.type}::{resource.name}", item=item, quantity=round(quantity, 4), unit=unit,
                    unit_price_usd=unit_price, monthly_usd=round(quantity * unit_price, 2))


def _bucket_role(name: str, stack: str) -> str:
    return name.removeprefix("northstar-").removesuffix(f"-{stack}")


def _instances(p: PriceTable, resource: Any, item: str, itype: Any, count: Any, emr: bool) -> list[CostLine]:
    n = int(count or 1)
    lines = [_line(resource, f"{item} {itype} x{n}", n * p.hours, "instance-hour", p.price("ec2_instance_hour", str(itype)))]
    if emr:
        lines.append(_line(resource, f"{item} EMR uplift {itype} x{n}", n * p.hours, "instance-hour",
                           p.price("emr_on_ec2_uplift_hour", str(itype))))
    return lines


def resource_lines(resource: Any, prices: PriceTable, usage: Mapping[str, Any], stack: str) -> list[CostLine]:
    """The cost lines of one declared resource (``type``, ``name``, ``props`` as the mock monitor records them)."""
    p, props, t = prices, resource.props, resource.type
    if t == EMR_SERVERLESS:
        cap = props.get("maximumCapacity") or {}
        busy = float(usage.get("emrBusyHoursPerMonth", 0))
        vcpu, memory = _quantity(cap.get("cpu", 0), "vCPU"), _quantity(cap.get("memory", 0), "GB")
        return [_line(resource, f"EMR Serverless {vcpu:g} vCPU ceiling x {busy:g} busy h", vcpu * busy, "vCPU-hour",
                      p.price("emr_serverless", "vcpu_hour")),
                _line(resource, f"EMR Serverless {memory:g} GB ceiling x {busy:g} busy h", memory * busy, "GB-hour",
                      p.price("emr_serverless", "gb_hour"))]
    if t == EMR_CLUSTER:
        lines = []
        for group, label in (("masterInstanceGroup", "primary"), ("coreInstanceGroup", "core")):
            g = props.get(group) or {}
            if g.get("instanceType"):
                lines += _instances(p, resource, f"EMR {label}", g["instanceType"], g.get("instanceCount", 1), True)
        return lines
    if t == EKS_CLUSTER:
        return [_line(resource, "EKS control plane", p.hours, "cluster-hour", p.price("eks_cluster_hour"))]
    if t == EKS_NODE_GROUP:
        types = props.get("instanceTypes") or ["m5.xlarge"]
        desired = (props.get("scalingConfig") or {}).get("desiredSize", 1)
        return _instances(p, resource, "EKS nodes", types[0], desired, False)
    if t == EC2_INSTANCE:
        return _instances(p, resource, "EC2", props.get("instanceType"), 1, False)
    if t == MWAA:
        cls = str(props.get("environmentClass", "mw1.small"))
        extra = max(int(props.get("minWorkers", 1)) - 1, 0)
        lines = [_line(resource, f"MWAA {cls} environment", p.hours, "hour", p.price("mwaa", "environment_hour", cls))]
        if extra:
            lines.append(_line(resource, f"MWAA {extra} always-on extra worker(s)", extra * p.hours, "worker-hour",
                               p.price("mwaa", "additional_worker_hour", cls)))
        return lines
    if t == MSK:
        nodes = props.get("brokerNodeGroupInfo") or {}
        brokers = int(props.get("numberOfBrokerNodes", 0))
        itype = str(nodes.get("instanceType"))
        volume = float(((nodes.get("storageInfo") or {}).get("ebsStorageInfo") or {}).get("volumeSize", 0))
        return [_line(resource, f"MSK {itype} x{brokers}", brokers * p.hours, "broker-hour",
                      p.price("msk", "broker_hour", itype)),
                _line(resource, f"MSK storage {volume:g} GB x{brokers}", brokers * volume, "GB-month",
                      p.price("msk", "storage_gb_month"))]
    if t in BUCKETS:
        role = _bucket_role(resource.name, stack)
        gb = float((usage.get("s3StorageGb") or {}).get(role, 0))
        return [_line(resource, f"S3 storage ({role})", gb, "GB-month", p.price("s3", "storage_gb_month"))]
    if t == KMS_KEY:
        return [_line(resource, "KMS key", 1, "key-month", p.price("kms", "key_month"))]
    if t == SECRET:
        return [_line(resource, "Secrets Manager secret", 1, "secret-month", p.price("secrets_manager", "secret_month"))]
    return []


def usage_lines(prices: PriceTable, usage: Mapping[str, Any], stack: str) -> list[CostLine]:
    """Stack-wide usage that belongs to no single resource: requests and data transfer."""
    p = prices
    rows = [("S3 PUT requests", float(usage.get("s3PutRequestsMillions", 0)) * 1000, "1000 requests",
             p.price("s3", "put_per_1000")),
            ("S3 GET requests", float(usage.get("s3GetRequestsMillions", 0)) * 1000, "1000 requests",
             p.price("s3", "get_per_1000")),
            ("KMS requests", float(usage.get("kmsRequestsMillions", 0)) * 100, "10K requests",
             p.price("kms", "per_10k_requests")),
            ("Secrets Manager API calls", float(usage.get("secretsApiCallsMillions", 0)) * 100, "10K calls",
             p.price("secrets_manager", "per_10k_api_calls")),
            ("data transfer out", float(usage.get("transferOutGb", 0)), "GB", p.price("data_transfer", "out_gb")),
            ("cross-AZ transfer", float(usage.get("crossAzTransferGb", 0)), "GB", p.price("data_transfer", "cross_az_gb"))]
    return [CostLine(resource=f"stack::{stack}", item=item, quantity=round(q, 4), unit=unit, unit_price_usd=price,
                     monthly_usd=round(q * price, 2)) for item, q, unit, price in rows if q]


def estimate(resources: Iterable[Any], prices: PriceTable, usage: Mapping[str, Any], stack: str) -> CostEstimate:
    lines = [line for r in sorted(resources, key=lambda r: (r.type, r.name))
             for line in resource_lines(r, prices, usage, stack)]
    lines += usage_lines(prices, usage, stack)
    return CostEstimate(stack=stack, monthly_usd=round(sum(line.monthly_usd for line in lines), 2),
                        price_table=prices.version, price_table_sha256=prices.sha256, lines=lines)
