"""Adapter registry: artifact kind -> adapter. Only kinds with a real adapter are listed."""

from __future__ import annotations

from northstar_release.adapters.base import ArtifactAdapter
from northstar_release.adapters.dag_bundle import DagBundleAdapter
from northstar_release.adapters.infra_version_map import InfraVersionMapAdapter
from northstar_release.adapters.spark_job import SparkJobAdapter
from northstar_release.adapters.warehouse import WarehouseAdapter
from northstar_release.model import ArtifactKind


def default_adapters() -> dict[ArtifactKind, ArtifactAdapter]:
    return {
        ArtifactKind.DAG_BUNDLE: DagBundleAdapter(),
        ArtifactKind.SPARK_JOB: SparkJobAdapter(),
        ArtifactKind.WAREHOUSE_PROJECT: WarehouseAdapter(),
        ArtifactKind.INFRA_VERSION_MAP: InfraVersionMapAdapter(),
    }
