"""Keep dbt and SQLMesh runs hermetic: no telemetry calls (network is not available in CI sandboxes)."""

from __future__ import annotations

import os

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
