"""The kind registry: the one list of artifact kinds, in packaging order.

Order matters: each kind's artifact may pin the digests of everything packaged before it; the infra version map comes
last and pins every other artifact. To add a kind: write its module (a ``SPEC`` with its adapter), add one line here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from northstar_release.adapters import dag_bundle, event_schemas, infra_version_map, spark_job, warehouse
from northstar_release.adapters.base import ArtifactAdapter
from northstar_release.kinds.spec import KindSpec
from northstar_release.model import ArtifactKind


@dataclass(frozen=True)
class KindRegistry:
    specs: tuple[KindSpec, ...]

    def __post_init__(self) -> None:
        seen = [s.kind for s in self.specs]
        dupes = sorted({k.value for k in seen if seen.count(k) > 1})
        if dupes:
            raise ValueError(f"kind registry: kinds registered twice: {', '.join(dupes)}")

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(self.specs)

    def with_kind(self, spec: KindSpec) -> KindRegistry:
        """A registry with ``spec`` appended (tests and plugins; packaged after every other kind)."""
        return KindRegistry((*self.specs, spec))

    def get(self, kind: ArtifactKind) -> KindSpec | None:
        return next((s for s in self.specs if s.kind == kind), None)

    def kinds(self) -> tuple[ArtifactKind, ...]:
        return tuple(s.kind for s in self.specs)

    def adapters(self) -> dict[ArtifactKind, ArtifactAdapter]:
        return {s.kind: s.adapter() for s in self.specs}

    def package_order(self, kinds: Iterable[ArtifactKind]) -> list[ArtifactKind]:
        order = self.kinds()
        unknown = sorted(k.value for k in kinds if k not in order)
        if unknown:
            raise ValueError(f"kind registry: no KindSpec for {', '.join(unknown)}")
        return sorted(kinds, key=order.index)

    def kind_by_root(self) -> dict[str, ArtifactKind]:
        return {root: s.kind for s in self.specs for root in s.source_roots}

    def entry_point_targets(self) -> dict[str, str]:
        return {s.entry_point: s.entry_point_target for s in self.specs}


KINDS = KindRegistry((
    spark_job.SPEC,
    warehouse.SPEC,
    dag_bundle.SPEC,
    event_schemas.SPEC,
    infra_version_map.SPEC,
))


def default_adapters() -> dict[ArtifactKind, ArtifactAdapter]:
    return KINDS.adapters()
