"""The deploy-time verifier against REAL job PEXes run under spark-submit (``--job-pex``).

The job PEX is the one Pants builds from ``spark:daily_revenue``: the python_tests target lists it in
``runtime_package_dependencies``, so it sits in the sandbox at ``spark/daily_revenue.pex``. Outside Pants set
``NORTHSTAR_SPARK_JOB_PEX`` or run ``./pants package spark:daily_revenue`` first (``dist/spark/daily_revenue.pex``).
A missing PEX FAILS these tests (never skips): a verifier that was never run against a real PEX proves nothing.

The drifted PEX is the real PEX with one byte-level change to the job module (its output column ``revenue`` renamed
``revenue_usd`` while ``OUTPUT_SCHEMA`` still declares ``revenue``) and a new ``pex_hash`` in PEX-INFO (PEX caches its
unzipped code by that hash). Everything else -- bootstrap, entry point, inherit_path -- is the production artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

# Imported so Pants puts the verifier's sources in the sandbox (the tests run it as a subprocess).
from northstar_spark import verify, verify_batch, verify_pex

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding northstar_spark/
JOB_MODULE = "northstar_spark/jobs/daily_revenue.py"


def real_job_pex() -> Path:
    candidates = [os.environ.get("NORTHSTAR_SPARK_JOB_PEX", ""), "spark/daily_revenue.pex",
                  str(PACKAGE_ROOT.parent / "dist" / "spark" / "daily_revenue.pex")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c).resolve()
    pytest.fail("job PEX not found (looked at $NORTHSTAR_SPARK_JOB_PEX, spark/daily_revenue.pex, dist/spark/); "
                "run under `./pants test` (runtime_package_dependencies) or `./pants package spark:daily_revenue`",
                pytrace=False)


def run_verify(*args: str) -> tuple[int, dict[str, Any], str]:
    # sys.path carries the other source roots the verifier imports (northstar_contracts under pipelines/).
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE_ROOT), *sys.path, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "northstar_spark.verify", *args], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be exactly one JSON line, got {proc.stdout!r}; stderr: {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(lines[0]), proc.stderr


def drifted_pex(real: Path, out: Path) -> Path:
    """The real PEX with its output column ``revenue`` renamed ``revenue_usd`` (OUTPUT_SCHEMA unchanged)."""
    module = "northstar_spark/jobs/daily_revenue.py"
    with zipfile.ZipFile(real) as src:
        info = json.loads(src.read("PEX-INFO"))
        drifted_src = src.read(module).decode().replace('.alias("revenue")', '.alias("revenue_usd")').encode()
        # PEX caches extracted code under ~/.pex by code_hash and pex_hash (both also embedded in __main__.py):
        # new content-derived hashes everywhere, or the drifted PEX would silently run the cached original.
        swaps = {
            info[k].encode(): hashlib.sha1(info[k].encode() + drifted_src, usedforsecurity=False).hexdigest().encode()
            for k in ("pex_hash", "code_hash")
        }
        shebang = real.read_bytes().split(b"\n", 1)[0] + b"\n"
        with open(out, "wb") as fh:
            fh.write(shebang)  # a PEX is its shebang line followed by the zip
            with zipfile.ZipFile(fh, "w") as dst:
                for item in src.infolist():
                    data = src.read(item.filename)
                    if item.filename == module:
                        text = data.decode()
                        assert text.count('.alias("revenue")') == 1, "the job changed; update this test's drift"
                        data = text.replace('.alias("revenue")', '.alias("revenue_usd")').encode()
                    for before, after in swaps.items():
                        data = data.replace(before, after)
                    dst.writestr(item, data)
    out.chmod(0o755)
    return out


def test_real_job_pex_passes_under_spark_submit() -> None:
    pex = real_job_pex()
    code, report, stderr = run_verify("--job-pex", str(pex), "--job", "daily_revenue")
    assert code == 0, (report, stderr[-3000:])
    assert report["mode"] == "spark-submit"
    assert report["schema_matches"] is True and report["values_match"] is True
    assert report["rows"] == 2
    assert report["pex_sha256"] == verify_pex.sha256_file(pex) == hashlib.sha256(pex.read_bytes()).hexdigest()
    assert report["entry_point"] == "northstar_spark.jobs.daily_revenue:main"
    assert report["inherit_path"] == "fallback"
    assert [f["name"] for f in report["expected_schema"]["fields"]] == ["order_date", "order_count", "revenue"]
    assert report["actual_schema"]["fields"][2]["type"] == "decimal(18,2)"
    assert report["seconds"] > 0


def test_job_pex_whose_output_drifts_from_its_schema_fails(tmp_path: Path) -> None:
    pex = drifted_pex(real_job_pex(), tmp_path / "daily_revenue_drifted.pex")
    code, report, stderr = run_verify("--job-pex", str(pex), "--job", "daily_revenue")
    assert code == 1, (report, stderr[-3000:])
    assert report["schema_matches"] is False
    assert report["job_exit_code"] == 0  # the job ran fine; its output broke the contract
    assert [f["name"] for f in report["actual_schema"]["fields"]][-1] == "revenue_usd"
    assert [f["name"] for f in report["expected_schema"]["fields"]][-1] == "revenue"


def test_missing_job_pex_is_a_usage_error(tmp_path: Path) -> None:
    code, report, _ = run_verify("--job-pex", str(tmp_path / "nope.pex"), "--job", "daily_revenue")
    assert code == 2 and report["usage"] is True and "not found" in report["error"]


def test_unknown_job_is_a_usage_error_with_json() -> None:
    assert "no_such_job" not in verify.JOBS
    code, report, _ = run_verify("--job", "no_such_job")
    assert code == 2 and report["usage"] is True


def test_several_job_pexes_share_one_jvm_and_report_per_job(tmp_path: Path) -> None:
    """Several --job-pex/--job pairs: one JVM for all of them, one record per job, exit 1 if any job drifted."""
    real = real_job_pex()
    drifted = drifted_pex(real, tmp_path / "daily_revenue_drifted.pex")
    code, report, stderr = run_verify("--job-pex", str(real), "--job", "daily_revenue",
                                      "--job-pex", str(drifted), "--job", "daily_revenue",
                                      "--job-pex", str(real), "--job", "daily_revenue")
    assert code == 1, (report, stderr[-3000:])
    assert report["mode"] == verify_batch.MODE and report["jvm_starts"] == 1 and report["ok"] is False
    jobs = report["jobs"]
    assert [(j["pex"], j["schema_matches"]) for j in jobs] == [
        (str(real), True), (str(drifted.resolve()), False), (str(real), True)]
    assert jobs[0]["values_match"] is True and jobs[0]["rows"] == 2 and jobs[0]["mode"] == "shared-jvm"
    assert jobs[1]["job_exit_code"] == 0 and jobs[1]["actual_schema"]["fields"][-1]["name"] == "revenue_usd"
    assert jobs[2]["values_match"] is True  # a job after a failing one still gets a fresh SparkContext
    print(f"3 job PEXes, one JVM: {report['seconds']}s; per job {[j['seconds'] for j in jobs]}")  # noqa: T201


def test_unpaired_job_pexes_are_a_usage_error() -> None:
    code, report, _ = run_verify("--job-pex", str(real_job_pex()), "--job", "daily_revenue", "--job", "daily_revenue")
    assert code == 2 and report["usage"] is True and "pairs" in report["error"]
