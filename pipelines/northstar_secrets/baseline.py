"""Write a detect-secrets baseline of the current findings, for a reviewer to prune and commit.

Why a command: the baseline must list our own rules' findings in detect-secrets' format (hashed secrets only, never
values), which the stock `detect-secrets scan` cannot produce without our plugins configured. Every entry written
here is a claim "reviewed: not a secret" — review each one (and say why in the change) before committing it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from detect_secrets.core import baseline as ds_baseline
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings

from northstar_secrets.scanner import MAX_FILE_BYTES, _display, plugin_settings


def write_baseline(files: Iterable[Path], root: Path, output: Path) -> int:
    """Scan `files` and write their findings to `output` as a detect-secrets baseline; returns the entry count."""
    with transient_settings(plugin_settings()):
        collection = SecretsCollection(root=str(root))
        for f in files:
            if f.stat().st_size <= MAX_FILE_BYTES:
                collection.scan_file(_display(f, root))
        data = ds_baseline.format_for_output(collection)
    for plugin in data.get("plugins_used", []):
        path = str(plugin.get("path", ""))
        if path.startswith("file://"):  # keep the baseline machine-independent: plugin path relative to root
            plugin["path"] = "file://" + os.path.relpath(path[len("file://"):], root.resolve())
    for name, entries in data["results"].items():
        for entry in entries:
            entry["filename"] = name  # detect-secrets prefixes "./" when root is "."; the key is the canonical name
    data.pop("generated_at", None)
    output.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return sum(len(v) for v in data["results"].values())
