"""scripts/verify-evidence checks an evidence pack with nothing but the export: real exports from the real CLI.

The script restates the engine's hashing rules in standard-library Python (an auditor must not need the engine); a
real chain accepted here is what keeps the two in step, and each tampering below must be caught with the seq named.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from northstar_release.tests.helpers import REPO, Cli, commit, fake_checker_cmd, make_repo, release_id

SCRIPT = REPO / "scripts" / "verify-evidence"


def verify(*args: str | Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, args), "--json"], capture_output=True, text=True,
                          timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    """v1 and v2 in prod, each approved (v1's first dev deploy killed, then closed as abandoned; v1 blocked once at
    prod before its approval), prod rolled back to v1, the export of v1 taken last, and anchors before and after."""
    root = tmp_path_factory.mktemp("evidence")
    repo = make_repo(root)
    cli = Cli(repo, root / "state", fake_checker_cmd(root))
    anchors = []
    for n in (1, 2):
        if n == 2:
            (repo / "airflow" / "dags" / "extra.py").write_text((repo / "airflow" / "dags" / "sales_daily.py")
                                                                .read_text().replace("sales_daily", "extra"))
            commit(repo, "v2")
        cli("build")
        rel = release_id(repo)
        if n == 1:  # the first try dies (SIGKILL at its start); the retry closes it as deploy.abandoned
            cli("deploy", rel, "--env", "dev", expect=-9, NORTHSTAR_FAULT_TESTING="1", NORTHSTAR_FAULT="start")
        cli("deploy", rel, "--env", "dev")
        cli("promote", rel, "--to", "staging")
        if n == 1:
            cli("--as", "carol@northstar.test", "promote", rel, "--to", "prod", expect=1)  # no approval yet: blocked
        cli("--as", "bob@northstar.test", "approve", rel, "--env", "prod")
        cli("--as", "carol@northstar.test", "promote", rel, "--to", "prod")
        anchors.append(root / f"anchor{n}.json")
        cli("audit", "anchor", "--output", str(anchors[-1]))
        if n == 1:
            v1 = rel
            early = root / "early.json"
            early.write_text(json.dumps({"seq": 1, "hash": json.loads(cli("audit", "export", rel, "--json").stdout)
                                         ["chain_segment"][0]["hash"]}))
    cli("--as", "carol@northstar.test", "rollback", "--env", "prod", "--reason", "drill: back to v1")
    export = root / "export.json"
    export.write_text(cli("audit", "export", v1, "--json").stdout)
    return export, anchors[1], early, v1


def tampered(export: Path, tmp_path: Path, change: Any) -> Path:
    doc = json.loads(export.read_text())
    change(doc)
    out = tmp_path / "tampered.json"
    out.write_text(json.dumps(doc))
    return out


def test_a_real_export_verifies_with_and_without_an_anchor(pack: tuple[Path, Path, Path, str]) -> None:
    export, anchor, early, v1 = pack
    code, result = verify(export)
    assert code == 0 and result["ok"] and result["release"] == v1, result
    doc = json.loads(export.read_text())
    assert result["entries_checked"] == len(doc["chain_segment"]) > result["release_entries"] > 0  # v2's are inside
    code, result = verify(export, "--anchor", anchor)
    assert code == 0 and result["anchor_checked"], result
    code, result = verify(export, "--anchor", early)  # seq 1 is v1's build: inside the segment
    assert code == 0, result


def test_an_edited_entry_is_named(pack: tuple[Path, Path, Path, str], tmp_path: Path) -> None:
    export = pack[0]

    def edit(doc: dict) -> None:
        doc["chain_segment"][2]["actor"] = "mallory@northstar.test"
    code, result = verify(tampered(export, tmp_path, edit))
    assert code == 1 and any(p.startswith("seq 3: content does not hash") for p in result["problems"]), result


def test_an_entry_rewritten_with_its_hash_breaks_the_next_link(pack: tuple[Path, Path, Path, str],
                                                               tmp_path: Path) -> None:
    namespace = runpy.run_path(str(SCRIPT), run_name="verify_evidence")  # the script's own hash function

    def rewrite(doc: dict) -> None:
        entry = doc["chain_segment"][1]
        entry["payload"]["reason"] = "rewritten"
        entry["hash"] = namespace["entry_hash"](entry)
    code, result = verify(tampered(pack[0], tmp_path, rewrite))
    assert code == 1 and any(p.startswith("seq 3: prev_hash does not match") for p in result["problems"]), result


def test_a_removed_entry_and_a_forged_approval_are_named(pack: tuple[Path, Path, Path, str], tmp_path: Path) -> None:
    code, result = verify(tampered(pack[0], tmp_path, lambda doc: doc["chain_segment"].pop(3)))
    assert code == 1 and any("missing or out of order" in p for p in result["problems"]), result

    def forge(doc: dict) -> None:
        doc["approvals"]["prod"][0]["approver"] = "mallory@northstar.test"
    code, result = verify(tampered(pack[0], tmp_path, forge))
    assert code == 1 and any("by mallory@northstar.test: no audit entry" in p for p in result["problems"]), result


def test_the_exports_gate_results_and_digests_must_be_the_chained_ones(pack: tuple[Path, Path, Path, str],
                                                                        tmp_path: Path) -> None:
    doc = json.loads(pack[0].read_text())
    outcomes = {(d["action"], d["status"]) for deps in doc["deployments"].values() for d in deps}
    assert {("deploy", "succeeded"), ("deploy", "failed"), ("promote", "blocked"), ("rollback", "succeeded")} <= outcomes
    assert "deploy.abandoned" in {e["action"] for e in doc["audit_entries"]}  # an honest pack with it verifies (above)

    def passed_gate_reported_failed(doc: dict) -> None:
        (dep, *_) = (d for d in doc["deployments"]["dev"] if d["gate_results"])
        dep["gate_results"][0]["summary"] = "edited after the fact"
    code, result = verify(tampered(pack[0], tmp_path, passed_gate_reported_failed))
    assert code == 1 and any("(deploy into dev, succeeded): its gate results differ from those chained at seq"
                             in p for p in result["problems"]), result

    def other_digest(doc: dict) -> None:
        doc["what"]["artifacts"][0]["sha256"] = "0" * 64
    code, result = verify(tampered(pack[0], tmp_path, other_digest))
    assert code == 1 and any(p.startswith("artifacts of ") and "release.build entry" in p
                             for p in result["problems"]), result

    def invented_deployment(doc: dict) -> None:
        blocked = next(d for d in doc["deployments"]["prod"] if d["status"] == "blocked")
        blocked["status"] = "succeeded"
    code, result = verify(tampered(pack[0], tmp_path, invented_deployment))
    assert code == 1 and any("no promote.succeeded entry with that deployment id" in p
                             for p in result["problems"]), result


def test_a_deployment_left_out_relabelled_or_reattributed_is_named(pack: tuple[Path, Path, Path, str],
                                                                    tmp_path: Path) -> None:
    def blocked(doc: dict) -> dict:
        return next(d for d in doc["deployments"]["prod"] if d["status"] == "blocked")

    def left_out(doc: dict) -> None:
        doc["deployments"]["prod"].remove(blocked(doc))
    code, result = verify(tampered(pack[0], tmp_path, left_out))
    assert code == 1 and any("(promote into prod): started at seq" in p and "missing from the export" in p
                             for p in result["problems"]), result

    for status, expected in (("running", "listed as running, but seq"), ("ok", "unknown status")):
        def relabel(doc: dict, status: str = status) -> None:
            blocked(doc)["status"] = status
        code, result = verify(tampered(pack[0], tmp_path, relabel))
        assert code == 1 and any(expected in p for p in result["problems"]), (status, result)

    def reattributed(doc: dict) -> None:
        blocked(doc)["actor"] = "bob@northstar.test"
    code, result = verify(tampered(pack[0], tmp_path, reattributed))
    assert code == 1 and any("actor 'bob@northstar.test' in the export, 'carol@northstar.test' at seq" in p
                             for p in result["problems"]), result

    code, result = verify(tampered(pack[0], tmp_path, lambda doc: doc.update(deployments=["not", "a", "map"])))
    assert code == 2 and "'deployments' must map" in result["error"], result


def test_an_anchor_the_export_does_not_reach_is_refused(pack: tuple[Path, Path, Path, str], tmp_path: Path) -> None:
    export, anchor, _early, _v1 = pack
    held = json.loads(anchor.read_text())
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"seq": held["seq"], "hash": "f" * 64}))
    code, result = verify(export, "--anchor", wrong)
    assert code == 1 and "the log was rewritten" in result["problems"][0], result
    later = tmp_path / "later.json"
    later.write_text(json.dumps({"seq": held["seq"] + 5, "hash": held["hash"]}))
    code, result = verify(export, "--anchor", later)
    assert code == 1 and "export again" in result["problems"][0], result


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, result = verify(bad)
    assert code == 2 and "bad.json" in result["error"], result
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"release": "rel-x", "audit_entries": []}))
    code, result = verify(old)
    assert code == 2 and "chain_segment" in result["error"], result
