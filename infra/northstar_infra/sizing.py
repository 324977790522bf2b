"""Per-stack sizing and network placement, read from ``northstar:sizing`` / ``northstar:network`` in Pulumi.<stack>.yaml.

Why config and not code: dev, staging and prod run the same program; only capacity differs (a reviewed config diff,
not a code change). Every value is validated before any resource is declared, and a bad value names the config key
and the rule, so ``pulumi preview`` (and ``northstar_infra.check``) fail on the typo rather than in AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

MWAA_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
KAFKA_MODES = ("msk", "external")
MSK_INSTANCE = re.compile(r"^kafka\.(t3|m5|m7g)\.[a-z0-9]+$")


class ConfigError(ValueError):
    """A stack config value breaks a rule; the message names the key."""


@dataclass(frozen=True)
class Sizing:
    """Capacity of the estate in one stack."""

    emr_max_vcpu: int
    emr_max_memory_gb: int
    emr_idle_timeout_minutes: int
    mwaa_environment_class: str
    mwaa_min_workers: int
    mwaa_max_workers: int
    kafka_mode: str
    kafka_brokers: int
    kafka_instance_type: str
    kafka_volume_gb: int
    raw_retention_days: int


@dataclass(frozen=True)
class Network:
    """Where private resources (MWAA, MSK, EMR Serverless) live: an existing VPC owned by the network team."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


def _int(data: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"northstar:sizing.{key} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in choices:
        raise ConfigError(f"northstar:sizing.{key} must be one of {choices}, got {value!r}")
    return str(value)


def parse_sizing(data: Any) -> Sizing:
    """Validate the ``northstar:sizing`` mapping."""
    if not isinstance(data, dict):
        raise ConfigError("northstar:sizing is required: a mapping of capacity settings for this stack")
    kafka_mode = _choice(data, "kafkaMode", KAFKA_MODES)
    instance = data.get("kafkaInstanceType", "")
    if kafka_mode == "msk" and not (isinstance(instance, str) and MSK_INSTANCE.match(instance)):
        raise ConfigError(f"northstar:sizing.kafkaInstanceType must be an MSK broker type like kafka.m5.large, got {instance!r}")
    sizing = Sizing(
        emr_max_vcpu=_int(data, "emrMaxVcpu", 4, 2000),
        emr_max_memory_gb=_int(data, "emrMaxMemoryGb", 16, 8000),
        emr_idle_timeout_minutes=_int(data, "emrIdleTimeoutMinutes", 1, 1440),
        mwaa_environment_class=_choice(data, "mwaaEnvironmentClass", MWAA_CLASSES),
        mwaa_min_workers=_int(data, "mwaaMinWorkers", 1, 25),
        mwaa_max_workers=_int(data, "mwaaMaxWorkers", 1, 25),
        kafka_mode=kafka_mode,
        kafka_brokers=_int(data, "kafkaBrokers", 0 if kafka_mode == "external" else 2, 30),
        kafka_instance_type=str(instance),
        kafka_volume_gb=_int(data, "kafkaVolumeGb", 1 if kafka_mode == "external" else 100, 16384),
        raw_retention_days=_int(data, "rawRetentionDays", 1, 3650),
    )
    if sizing.mwaa_min_workers > sizing.mwaa_max_workers:
        raise ConfigError("northstar:sizing.mwaaMinWorkers must not exceed mwaaMaxWorkers")
    if sizing.emr_max_memory_gb < 2 * sizing.emr_max_vcpu:
        raise ConfigError("northstar:sizing.emrMaxMemoryGb must be at least 2 GB per vCPU (EMR Serverless worker minimum)")
    return sizing


def parse_network(data: Any, kafka_brokers: int) -> Network:
    """Validate ``northstar:network``; MSK needs its broker count to be a multiple of the subnet count."""
    if not isinstance(data, dict):
        raise ConfigError("northstar:network is required: {vpcId, subnetIds, securityGroupIds}")
    vpc = data.get("vpcId")
    subnets, groups = data.get("subnetIds"), data.get("securityGroupIds")
    if not isinstance(vpc, str) or not vpc.startswith("vpc-"):
        raise ConfigError(f"northstar:network.vpcId must be a VPC id (vpc-...), got {vpc!r}")
    for key, ids, prefix in (("subnetIds", subnets, "subnet-"), ("securityGroupIds", groups, "sg-")):
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i.startswith(prefix) for i in ids):
            raise ConfigError(f"northstar:network.{key} must be a non-empty list of {prefix}... ids, got {ids!r}")
    assert isinstance(subnets, list) and isinstance(groups, list)
    if len(subnets) < 2:
        raise ConfigError("northstar:network.subnetIds needs at least 2 subnets in different AZs (MWAA requirement)")
    if kafka_brokers and kafka_brokers % len(subnets):
        raise ConfigError(f"northstar:sizing.kafkaBrokers ({kafka_brokers}) must be a multiple of the {len(subnets)} subnets")
    return Network(vpc_id=vpc, subnet_ids=tuple(subnets), security_group_ids=tuple(groups))


def load(config: pulumi.Config | None = None) -> tuple[Sizing, Network, str | None]:
    """(sizing, network, external Kafka bootstrap servers or None) from the stack config."""
    cfg = config or pulumi.Config("northstar")
    sizing = parse_sizing(cfg.get_object("sizing"))
    network = parse_network(cfg.get_object("network"), sizing.kafka_brokers if sizing.kafka_mode == "msk" else 0)
    bootstrap = cfg.get("kafkaBootstrapServers")
    if sizing.kafka_mode == "external" and not bootstrap:
        raise ConfigError("northstar:kafkaBootstrapServers is required when northstar:sizing.kafkaMode is external")
    return sizing, network, bootstrap
