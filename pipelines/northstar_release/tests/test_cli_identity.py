"""The CLI end to end: normalized identities, CI-verified (OIDC) identities where an environment requires them, and a
forged approval row refused by `promote` and caught by `audit verify` (SQLite state in a temporary repo)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa  # pants: no-infer-dep (installed by pyjwt[crypto])

from northstar_release.tests.helpers import ENVIRONMENTS_YAML, Cli, fake_checker_cmd, make_repo, release_id

REPO = "northstar/data-platform"
ISSUER = "https://token.actions.githubusercontent.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


@pytest.fixture
def fast(repo: Path, tmp_path: Path) -> Cli:
    return Cli(repo, tmp_path / "state", fake_checker_cmd(tmp_path))


def staged(cli: Cli, repo: Path) -> str:
    cli("build")
    rel = release_id(repo)
    cli("deploy", rel, "--env", "dev")
    cli("promote", rel, "--to", "staging")
    return rel


def test_forged_approval_row_is_refused_by_promote_and_caught_by_verify(fast: Cli, repo: Path) -> None:
    rel = staged(fast, repo)
    with sqlite3.connect(fast.state_dir / "state.db") as conn:
        conn.execute("INSERT INTO approvals (release_id, env, approver, at, comment) VALUES (?, 'prod', "
                     "'bob@northstar.test', '2025-03-04T11:00:00.000000+00:00', 'lgtm')", (rel,))
    res = fast("audit", "verify", expect=1)
    assert "state tables disagree with the audit chain" in res.stderr and "bob@northstar.test" in res.stderr
    res = fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", "--json", expect=1)
    doc = json.loads(res.stdout)
    assert doc["status"] == "blocked" and any("forged" in r and "bob@northstar.test" in r for r in doc["reasons"])
    assert fast.live_target("prod") is None


@pytest.mark.parametrize("who, code, message", [
    ("alice@northstar.test\u200b", 2, "invisible"),
    ("\u0430lice@northstar.test", 2, "several scripts"),
    ("   ", 2, "empty"),
    ("bob@northstar.test\ncarol@northstar.test", 2, "control"),
    (" ALICE@Northstar.Test ", 1, "self-approval"),  # normalized to the author: separation of duties holds
])
def test_hostile_identities_are_refused(fast: Cli, repo: Path, who: str, code: int, message: str) -> None:
    fast("build")
    res = fast("--as", who, "approve", release_id(repo), "--env", "prod", expect=code)
    assert message in res.stderr
    json_res = fast("approve", release_id(repo), "--env", "prod", "--as", who, "--json", expect=code)
    assert json.loads(json_res.stdout)["exit_code"] == code
    fast.audit_ok()


# -- CI-verified identities -------------------------------------------------------------------------------------------


def _token(tmp_path: Path, name: str, key: rsa.RSAPrivateKey = KEY, **overrides: Any) -> Path:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "northstar-release", "sub": f"repo:{REPO}:environment:prod", "iat": now - 5,
              "exp": now + 600, "actor": "bob-reviewer", "environment": "prod", "repository": REPO, "run_id": "99",
              **overrides}
    path = tmp_path / f"{name}.jwt"
    path.write_text(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"}))
    return path


@pytest.fixture
def verified_env(tmp_path: Path) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    environments = tmp_path / "environments.yaml"
    text = ENVIRONMENTS_YAML.read_text()
    assert "    approvers_required: 1\n" in text
    environments.write_text(text.replace("    approvers_required: 1\n",
                                         "    approvers_required: 1\n    require_verified_identity: true\n"))
    return {"NORTHSTAR_OIDC_JWKS": str(tmp_path / "jwks.json"), "NORTHSTAR_OIDC_REPOSITORY": REPO,
            "NORTHSTAR_ENVIRONMENTS": str(environments)}


def test_prod_requiring_verified_identity(fast: Cli, repo: Path, tmp_path: Path, verified_env: dict[str, Any]) -> None:
    rel = staged(fast, repo)
    # Self-asserted approvals are refused outright in an env that requires verified identities.
    res = fast("--as", "bob@northstar.test", "approve", rel, "--env", "prod", expect=1, **verified_env)
    assert "requires a CI-verified identity" in res.stderr
    # Forged, expired and wrong-audience tokens are refused (exit 1) and record no approval.
    for name, key, overrides, message in (
            ("forged", OTHER_KEY, {}, "signature does not verify"),
            ("expired", KEY, {"iat": int(time.time()) - 900, "exp": int(time.time()) - 300}, "expired"),
            ("audience", KEY, {"aud": "sts.amazonaws.com"}, "audience")):
        token = _token(tmp_path, name, key, **overrides)
        res = fast("--oidc-token", str(token), "approve", rel, "--env", "prod", expect=1, **verified_env)
        assert message in res.stderr, res.stderr
    assert json.loads(fast("show", rel, "--json").stdout)["approvals"]["prod"] == []
    # A valid token: the approval is recorded with a verified identity; --as cannot contradict it.
    good = _token(tmp_path, "good")
    res = fast("--oidc-token", str(good), "--as", "mallory@northstar.test", "approve", rel, "--env", "prod",
               expect=2, **verified_env)
    assert "contradicts the CI-verified identity" in res.stderr
    doc = json.loads(fast("--oidc-token", str(good), "approve", rel, "--env", "prod", "--json",
                          **verified_env).stdout)
    assert doc["identity"]["verified"] is True and doc["identity"]["subject"] == "bob-reviewer"
    assert doc["identity"]["run_id"] == "99" and len(doc["identity"]["claims_digest"]) == 64
    # Promotion by a self-asserted deployer is refused; with the deployer's token it succeeds.
    fast("--as", "carol@northstar.test", "promote", rel, "--to", "prod", expect=1, **verified_env)
    deployer = _token(tmp_path, "deployer", actor="carol-deployer")
    fast("--oidc-token", str(deployer), "promote", rel, "--to", "prod", **verified_env)
    assert fast.live_target("prod") is not None
    export = json.loads(fast("audit", "export", rel, **verified_env).stdout)
    start = next(e for e in export["audit_entries"] if e["action"] == "promote.start" and e["env"] == "prod")
    notes = [n for n in start["payload"]["plan"]["notes"] if n.startswith("identity: ")]
    assert json.loads(notes[0].removeprefix("identity: "))["verified"] is True
    approval = next(e for e in export["audit_entries"] if e["action"] == "approval.add")
    assert approval["payload"]["identity"]["subject"] == "bob-reviewer"
    assert good.read_text() not in json.dumps(export)  # the token itself never reaches the records
    fast("audit", "verify", **verified_env)
