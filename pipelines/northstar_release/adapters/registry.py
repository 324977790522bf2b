"""Kept for callers of ``default_adapters``: the adapters now come from the kind registry (kinds/registry.py)."""

from __future__ import annotations

from northstar_release.kinds.registry import default_adapters

__all__ = ["default_adapters"]
