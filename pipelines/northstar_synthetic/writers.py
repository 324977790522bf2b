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
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from northstar_synthetic.context import Row
from northstar_synthetic.dataset import Dataset
from northstar_synthetic.schema import TABLES, TableSpec

# S3 feeds partitioned by a business date column; the others land in one partition dated the first generated day.
PARTITION_COLUMN = {"marketing_spend": "spend_date", "exchange_rates": "rate_date", "store_footfall": "hour_start"}
_SCALE = re.compile(r"decimal\(\d+,(\d+)\)")


def _scale(logical: str) -> int | None:
    m = _SCALE.fullmatch(logical)
    return int(m.group(1)) if m else None


def _csv_converter(logical: str) -> Callable[[object], str]:
    """One formatter per column type, chosen once per table (the writers' hot loop is per value)."""
    scale = _scale(logical)
    if scale is not None:
        return lambda v: "" if v is None else f"{v:.{scale}f}"
    if logical in ("date", "timestamp"):
        return lambda v: "" if v is None else v.isoformat()  # type: ignore[attr-defined]
    if logical == "boolean":
        return lambda v: "" if v is None else ("true" if v else "false")
    return lambda v: "" if v is None else str(v)


def _json_converter(logical: str) -> Callable[[object], str]:
    """Like _csv_converter, producing JSON text; decimals are JSON numbers written with their declared scale."""
    scale = _scale(logical)
    if scale is not None:
        return lambda v: "null" if v is None else f"{v:.{scale}f}"
    if logical in ("date", "timestamp"):
        return lambda v: "null" if v is None else f'"{v.isoformat()}"'  # type: ignore[attr-defined]
    if logical == "boolean":
        return lambda v: "null" if v is None else ("true" if v else "false")
    if logical in ("int", "bigint"):
        return lambda v: "null" if v is None else str(v)
    return lambda v: json.dumps(v, ensure_ascii=False)


def csv_bytes(spec: TableSpec, rows: Iterable[Row]) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(spec.column_names)
    converters = [_csv_converter(t) for _, t in spec.columns]
    out.writerows([conv(v) for conv, v in zip(converters, row, strict=True)] for row in rows)
    return buf.getvalue().encode()


def jsonl_bytes(spec: TableSpec, rows: Iterable[Row]) -> bytes:
    prefixes = [f"{json.dumps(name)}: " for name in spec.column_names]
    converters = [_json_converter(t) for _, t in spec.columns]
    out = io.StringIO()
    for row in rows:
        out.write("{" + ", ".join(p + conv(v) for p, conv, v in zip(prefixes, converters, row, strict=True)) + "}\n")
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
