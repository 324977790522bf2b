#!/usr/bin/env python3
"""Benchmark: the data-quality gate's prod-vs-candidate diff (northstar_dq) beside SQLMesh's table_diff, same tables,
same run, on DuckDB.

Why: issue 11 sets the goal "5M-row comparison in <= 3 s"; SQLMesh's table_diff was measured at ~10 s. This script
builds a prod table and a candidate (a few % of rows removed, added and changed) in a throwaway DuckDB file, times
both engines --rounds times each (interleaved, so machine load hits both alike), checks that both report the same
added/removed/changed counts, prints a table and writes JSON. It needs DuckDB and SQLMesh, i.e. the dbt resolve:

    ./pants export --resolve=dbt
    dist/export/python/virtualenvs/dbt/3.11.7/bin/python bench/data_diff.py [--rows 5000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "dbt"))  # run as a plain script with the dbt resolve's interpreter

from northstar_dq.diff import diff_tables  # noqa: E402

COLUMNS = "order_id, customer_id, status, amount, order_date, email, score"


def build(path: Path, rows: int) -> dict[str, int]:
    """prod: `rows` rows. candidate: every 50th removed (2 %), every 33rd changed (~3 %), rows/100 added (1 %)."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA prod; CREATE SCHEMA dev;")
    con.execute(f"""
        CREATE TABLE prod.fct_orders AS SELECT
          i AS order_id, (i * 7919) % 200000 AS customer_id,
          ['placed', 'shipped', 'completed', 'returned'][1 + i % 4] AS status,
          ((i % 10000) / 100.0)::DECIMAL(12, 2) AS amount, DATE '2024-01-01' + (i % 365)::INTEGER AS order_date,
          'user' || (i % 200000) || '@example.com' AS email, (i % 1000) / 7.0 AS score
        FROM range(1, {rows} + 1) t(i)
    """)  # noqa: S608 (only integers are interpolated)
    con.execute(f"""
        CREATE TABLE dev.fct_orders AS
        SELECT order_id, customer_id, status,
               (CASE WHEN order_id % 33 = 1 THEN amount + 1 ELSE amount END)::DECIMAL(12, 2) AS amount,
               order_date, email, score
        FROM prod.fct_orders WHERE order_id % 50 <> 0
        UNION ALL
        SELECT i, 1, 'placed', 1.00, DATE '2025-01-01', 'new@example.com', 0.0
        FROM range({rows} + 1, {rows} + {rows // 100} + 1) t(i)
    """)  # noqa: S608 (only integers are interpolated)
    expected = con.execute(f"""SELECT
        (SELECT count(*) FROM range(1, {rows} + 1) t(i) WHERE i % 50 = 0),
        {rows // 100},
        (SELECT count(*) FROM range(1, {rows} + 1) t(i) WHERE i % 33 = 1 AND i % 50 <> 0)""").fetchone()  # noqa: S608
    con.close()
    assert expected is not None
    return {"removed": int(expected[0]), "added": int(expected[1]), "changed": int(expected[2])}


def run_ours(path: Path) -> tuple[float, float, dict[str, int]]:
    start, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(path), read_only=True)
    stats = diff_tables(con, "prod", "dev", "fct_orders", ["order_id"], sample_size=20, pii_columns=frozenset({"email"}))
    con.close()
    counts = {"removed": stats.rows_removed, "added": stats.rows_added, "changed": stats.rows_changed}
    return time.perf_counter() - start, time.process_time() - cpu, counts


def run_sqlmesh(path: Path) -> tuple[float, float, dict[str, int]]:
    from sqlmesh.core.engine_adapter.duckdb import DuckDBEngineAdapter
    from sqlmesh.core.table_diff import TableDiff

    start, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(str(path))
    adapter = DuckDBEngineAdapter(lambda: con)
    diff = TableDiff(adapter, "prod.fct_orders", "dev.fct_orders", on=["order_id"], limit=20)
    diff.schema_diff()
    row = diff.row_diff()
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    counts = {"removed": row.s_only_count, "added": row.t_only_count, "changed": row.join_count - row.full_match_count}
    adapter.close()
    return elapsed, cpu_s, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "data_diff.json")
    opts = parser.parse_args()

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-data-diff-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        t0 = time.perf_counter()
        expected = build(path, opts.rows)
        build_s = time.perf_counter() - t0
        times: dict[str, list[float]] = {"northstar_dq": [], "sqlmesh_table_diff": []}
        cpus: dict[str, list[float]] = {"northstar_dq": [], "sqlmesh_table_diff": []}
        counts: dict[str, dict[str, int]] = {}
        for _ in range(opts.rounds):
            for name, fn in (("northstar_dq", run_ours), ("sqlmesh_table_diff", run_sqlmesh)):
                elapsed, cpu_s, got = fn(path)
                times[name].append(round(elapsed, 3))
                cpus[name].append(round(cpu_s, 3))
                counts[name] = got
    for name, got in counts.items():
        if got != expected:
            print(f"MISMATCH: {name} reported {got}, expected {expected}", file=sys.stderr)
            return 1

    print(f"{opts.rows:,} prod rows vs candidate (removed {expected['removed']:,}, added {expected['added']:,}, "
          f"changed {expected['changed']:,}); tables built in {build_s:.1f} s; {opts.rounds} rounds each")
    print(f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs "
          "(wall time grows with load; CPU time much less)")
    print(f"| {'engine':<20} | {'median wall s':>13} | {'best wall s':>11} | {'worst wall s':>12} | {'median CPU s':>12} |")
    print(f"| {'-' * 20} | {'-' * 13} | {'-' * 11} | {'-' * 12} | {'-' * 12} |")
    result: dict[str, dict[str, Any]] = {}
    for name, ts in times.items():
        result[name] = {"median_s": statistics.median(ts), "best_s": min(ts), "worst_s": max(ts), "runs_s": ts,
                        "median_cpu_s": statistics.median(cpus[name]), "runs_cpu_s": cpus[name]}
        cpu_med = statistics.median(cpus[name])
        print(f"| {name:<20} | {statistics.median(ts):>13.2f} | {min(ts):>11.2f} | {max(ts):>12.2f} | {cpu_med:>12.2f} |")
    speedup = result["sqlmesh_table_diff"]["median_s"] / result["northstar_dq"]["median_s"]
    print(f"both report the same counts; northstar_dq is {speedup:.1f}x faster (median)")
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps({
        "benchmark": "data_diff", "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "duckdb": duckdb.__version__},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "load_average_1m_start": round(load_start, 2), "cpus": os.cpu_count(), "rows": opts.rows, "rounds": opts.rounds,
        "expected": expected, "build_s": round(build_s, 2),
        "results": result, "speedup_median": round(speedup, 2),
    }, indent=2) + "\n")
    print(f"wrote {opts.output.relative_to(REPO) if opts.output.is_relative_to(REPO) else opts.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
