"""Same seed -> byte-identical files; a different seed or size -> different data; bad sizes are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from northstar_synthetic import Config, generate, write_dataset
from northstar_synthetic import __main__ as cli


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    cfg = Config(seed=11, orders=400, days=3)
    write_dataset(generate(cfg), tmp_path / "a")
    write_dataset(generate(Config(seed=11, orders=400, days=3)), tmp_path / "b")
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert len(a) > 40
    assert a == b


def test_other_seed_other_bytes_same_shape(tmp_path: Path) -> None:
    one = write_dataset(generate(Config(seed=1, orders=300, days=2)), tmp_path / "one")
    two = write_dataset(generate(Config(seed=2, orders=300, days=2)), tmp_path / "two")
    assert one["files"] != two["files"]
    assert json.dumps(sorted(one["files"])) == json.dumps(sorted(two["files"]))  # type: ignore[call-overload]


def test_size_knob_scales_volumes() -> None:
    small, large = generate(Config(orders=200, days=2)).counts(), generate(Config(orders=2000, days=2)).counts()
    assert small["retail_oltp__orders"] == 200 and large["retail_oltp__orders"] == 2000
    for key in ("retail_oltp__order_lines", "retail_oltp__payments", "kafka__order_events", "kafka__clickstream"):
        assert large[key] > 5 * small[key], key


def test_cli_writes_manifest_and_rejects_bad_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--out", str(tmp_path / "out"), "--orders", "150", "--days", "2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert printed["row_counts"] == manifest["row_counts"]
    assert manifest["row_counts"]["retail_oltp__orders"] == 150
    assert cli.main(["--out", str(tmp_path / "bad"), "--orders", "0"]) == 2
    assert "orders must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_module_entry_point_runs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "northstar_synthetic", "--out", str(tmp_path), "--orders", "50", "--days", "1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "kafka" / "pos.transactions.v1" / "part-00000.jsonl").stat().st_size > 0
