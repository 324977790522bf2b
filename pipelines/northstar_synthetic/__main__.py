"""``python -m northstar_synthetic --out DIR [--seed N] [--orders N] [--days N] [--duckdb FILE]``.

Prints the manifest's row counts as JSON. Exit 2 on bad arguments (argparse) or a bad size; nothing is written then.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from northstar_synthetic.context import Config
from northstar_synthetic.dataset import generate
from northstar_synthetic.writers import write_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m northstar_synthetic",
                                     description="Deterministic synthetic Northstar source data (sources.yaml).")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--seed", type=int, default=42, help="same seed -> byte-identical files (default 42)")
    parser.add_argument("--orders", type=int, default=1000,
                        help="size knob: total orders; customers, products, stores and events scale with it (default 1000)")
    parser.add_argument("--days", type=int, default=7, help="days of activity starting at --start (default 7)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1), help="first day (default 2024-01-01)")
    parser.add_argument("--duckdb", type=Path, help="also load the files into this DuckDB file's bronze schema")
    args = parser.parse_args(argv)
    try:
        cfg = Config(seed=args.seed, orders=args.orders, days=args.days, start=args.start)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    manifest = write_dataset(generate(cfg), args.out)
    result: dict[str, object] = {"out": str(args.out), "row_counts": manifest["row_counts"]}
    if args.duckdb:
        from northstar_synthetic.duckdb_load import load_bronze

        result["duckdb"] = {"database": str(args.duckdb), "row_counts": load_bronze(args.out, args.duckdb)}
    result["seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
