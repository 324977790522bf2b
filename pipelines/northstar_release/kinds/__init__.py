"""Artifact kinds: one ``KindSpec`` per kind, declared by the kind's own module, listed once in ``kinds.registry``."""

from northstar_release.kinds.spec import KindSpec

__all__ = ["KindSpec"]
