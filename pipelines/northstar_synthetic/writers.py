"""Write a Dataset the way each source system delivers it, and optionally load it into DuckDB's ``bronze`` schema.

Layout under the output folder (mirrors where the ingestion jobs read from):
  postgres/<system>/<table>.csv                       one CSV (header row) per PostgreSQL table
  s3/<prefix>/dt=YYYY-MM-DD/part-00000.<csv|json>     S3 feeds, partitioned by their business date (JSON = JSON lines)
  kafka/<topic>/part-00000.jsonl                      one JSON-lines file per topic, in event-time order
  manifest.json                                       row count and sha256 per file, plus the generator config
Values: ISO dates/timestamps (``2024-01-01T10:15:00``), decimals with exactly their declared scale, booleans
true/false, NULL as an empty CSV field / JSON null. Files are written in sorted order with ``\\n`` line ends, so the
same seed gives byte-identical output.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from northstar_synthetic.context import Row
from northstar_synthetic.dataset import Dataset
from northstar_synthetic.schema import TABLES, TableSpec

# S3 feeds partitioned by a business date column; the others land in one partition dated the first generated day.
PARTITION_COLUMN = {"marketing_spend": "spend_date", "exchange_rates": "rate_date", "store_footfall": "hour_start"}
_SCALE = re.compile(r"decimal\(\d+,(\d+)\)")


def _text(value: object, logical: str) -> object:
    """One value as CSV/JSON wants it; decimals keep the declared scale."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        m = _SCALE.fullmatch(logical)
        return f"{value:.{int(m.group(1)) if m else 2}f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def csv_bytes(spec: TableSpec, rows: Iterable[Row]) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(spec.column_names)
    types = [t for _, t in spec.columns]
    for row in rows:
        values = [_text(v, t) for v, t in zip(row, types, strict=True)]
        out.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in values])
    return buf.getvalue().encode()


def jsonl_bytes(spec: TableSpec, rows: Iterable[Row]) -> bytes:
    names, types = spec.column_names, [t for _, t in spec.columns]
    keys = [json.dumps(name) for name in names]
    out = io.StringIO()
    for row in rows:
        parts = []
        for key, value, logical in zip(keys, row, types, strict=True):
            text = _text(value, logical)
            # Decimals are JSON numbers written with their declared scale (Spark and DuckDB read them as decimals).
            raw = str(text) if isinstance(value, Decimal) else json.dumps(text, ensure_ascii=False)
            parts.append(f"{key}: {raw}")
        out.write("{" + ", ".join(parts) + "}\n")
    return out.getvalue().encode()


def table_files(dataset: Dataset, spec: TableSpec) -> dict[str, bytes]:
    """Relative path -> bytes for one table."""
    rows = dataset.tables[spec.key]
    if spec.system in ("retail_oltp", "finance_erp"):
        return {f"postgres/{spec.system}/{spec.name}.csv": csv_bytes(spec, rows)}
    if spec.system == "kafka":
        return {f"kafka/{spec.location}/part-00000.jsonl": jsonl_bytes(spec, rows)}
    column = PARTITION_COLUMN.get(spec.name)
    by_day: dict[str, list[Row]] = {}
    if column is None:
        by_day[dataset.config.start.isoformat()] = list(rows)
    else:
        index = spec.column_names.index(column)
        for row in rows:
            value = row[index]
            day = value.date() if isinstance(value, datetime) else value
            by_day.setdefault(str(day), []).append(row)
    ext, encode = ("json", jsonl_bytes) if spec.file_format == "json" else ("csv", csv_bytes)
    return {f"s3/{spec.location}/dt={day}/part-00000.{ext}": encode(spec, part) for day, part in sorted(by_day.items())}


def write_dataset(dataset: Dataset, out_dir: Path) -> dict[str, object]:
    """Write every table under ``out_dir``; returns (and writes) the manifest."""
    files: dict[str, dict[str, object]] = {}
    for key, spec in TABLES.items():
        for rel, data in table_files(dataset, spec).items():
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files[rel] = {"table": key, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    cfg = dataset.config
    manifest: dict[str, object] = {
        "config": {"seed": cfg.seed, "orders": cfg.orders, "days": cfg.days, "start": cfg.start.isoformat()},
        "row_counts": dataset.counts(),
        "files": dict(sorted(files.items())),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
