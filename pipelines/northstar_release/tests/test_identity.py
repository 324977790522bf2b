"""Identity normalization and OIDC token verification, with a locally generated RSA key set standing in for the CI
issuer (the tokens are real RS256 JWTs; only the issuer is ours)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa  # pants: no-infer-dep (installed by pyjwt[crypto])

from northstar_release.errors import Blocked, UsageError
from northstar_release.identity import (
    GITHUB_ISSUER,
    IdentityError,
    OidcPolicy,
    TokenRejected,
    claims_digest,
    normalize_identity,
    require_verified,
    resolve_identity,
    unverified,
    verify_token,
)

REPO = "northstar/data-platform"
AUDIENCE = "northstar-release"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


ISSUER_KEY = _key()
ATTACKER_KEY = _key()


def jwks(*keys: tuple[str, rsa.RSAPrivateKey]) -> dict[str, Any]:
    out = []
    for kid, key in keys:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        out.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": out}


POLICY = OidcPolicy(issuer=GITHUB_ISSUER, audience=AUDIENCE, repository=REPO, jwks=jwks(("k1", ISSUER_KEY)))


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": GITHUB_ISSUER, "aud": AUDIENCE, "sub": f"repo:{REPO}:environment:prod", "iat": now - 5,
            "nbf": now - 5, "exp": now + 300, "actor": "Bo-Reviewer", "environment": "prod", "repository": REPO,
            "run_id": "4242", "workflow_ref": f"{REPO}/.github/workflows/promote-prod.yml@refs/heads/main"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(key: rsa.RSAPrivateKey = ISSUER_KEY, kid: str | None = "k1", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers=headers)


# -- normalization ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("  Ana@Northstar.Example \t", "ana@northstar.example"),
    ("\uff41\uff4e\uff41@northstar.example", "ana@northstar.example"),  # full-width letters collapse under NFKC
    ("Bo-Reviewer", "Bo-Reviewer"),  # logins keep their case; only e-mails are lower-cased
    ("José Müller", "José Müller"),
    ("山田太郎", "山田太郎"),
    ("やまだタロウ", "やまだタロウ"),  # Hiragana + Katakana: one writing system
])
def test_normalize_accepts_and_canonicalises(raw: str, expected: str) -> None:
    assert normalize_identity(raw) == expected


@pytest.mark.parametrize("raw, rule", [
    ("", "empty"),
    ("   ", "empty"),
    ("ana@north\u200bstar.example", "invisible"),  # zero-width space
    ("ana\u2060@northstar.example", "invisible"),  # word joiner
    ("\ufeffana@northstar.example", "invisible"),  # BOM
    ("ana@northstar.example\nbo@northstar.example", "control"),
    ("ana\x00", "control"),
    ("\u0430na@northstar.example", "several scripts"),  # Cyrillic a + Latin
    ("ana\u2028lopez", "whitespace"),  # line separator (NFKC turns a no-break space into a plain one)
    ("[/]\u200d", "invisible"),
])
def test_normalize_refuses(raw: str, rule: str) -> None:
    with pytest.raises(IdentityError, match=rule) as info:
        normalize_identity(raw, field="--as")
    assert info.value.message.startswith("--as:") and info.value.exit_code == 2


def test_homoglyph_and_zero_width_variants_cannot_become_second_approvers() -> None:
    author = normalize_identity("ana@northstar.example")
    for variant in (" ANA@northstar.example ", "Ana@Northstar.Example"):
        assert normalize_identity(variant) == author
    for variant in ("ana@northstar.examp\u200ble", "\u0430na@northstar.example"):
        with pytest.raises(IdentityError):
            normalize_identity(variant)


def test_non_text_identity_refused() -> None:
    with pytest.raises(IdentityError, match="text"):
        normalize_identity(b"ana")


# -- OIDC tokens ------------------------------------------------------------------------------------------------------


def test_valid_token_maps_claims_to_a_verified_record() -> None:
    issued = token()
    record = verify_token(issued, POLICY)
    assert record.verified is True
    assert record.subject == "Bo-Reviewer" and record.actor == "Bo-Reviewer"
    assert (record.environment, record.repository, record.run_id, record.issuer) == ("prod", REPO, "4242", GITHUB_ISSUER)
    decoded = jwt.decode(issued, options={"verify_signature": False})
    assert record.claims_digest == claims_digest(decoded)
    # the digest is of the claims exactly: change one claim, the digest changes
    assert verify_token(token(run_id="4243"), POLICY).claims_digest != record.claims_digest
    assert issued not in json.dumps(record.to_json()) and issued.split(".")[2] not in json.dumps(record.to_json())


def test_forged_signature_is_refused() -> None:
    # Same kid as the issuer's key, signed with another key: what a forger would produce.
    with pytest.raises(TokenRejected, match="signature does not verify"):
        verify_token(token(key=ATTACKER_KEY), POLICY)


def test_altered_payload_is_refused() -> None:
    header, payload, signature = token().split(".")
    forged_claims = jwt.utils.base64url_encode(json.dumps(claims(actor="mallory")).encode()).decode()
    with pytest.raises(TokenRejected, match="signature"):
        verify_token(".".join([header, forged_claims, signature]), POLICY)


def test_expired_token_is_refused() -> None:
    now = int(time.time())
    with pytest.raises(TokenRejected, match="expired"):
        verify_token(token(iat=now - 600, nbf=now - 600, exp=now - 60), POLICY)


def test_not_yet_valid_token_is_refused() -> None:
    now = int(time.time())
    with pytest.raises(TokenRejected, match="not valid yet"):
        verify_token(token(nbf=now + 600, exp=now + 900), POLICY)


def test_wrong_audience_is_refused() -> None:
    with pytest.raises(TokenRejected, match="audience"):
        verify_token(token(aud="sts.amazonaws.com"), POLICY)


def test_wrong_issuer_is_refused() -> None:
    with pytest.raises(TokenRejected, match="issuer"):
        verify_token(token(iss="https://evil.example"), POLICY)


def test_unknown_kid_is_refused() -> None:
    with pytest.raises(TokenRejected, match="not in the issuer's key set"):
        verify_token(token(key=ATTACKER_KEY, kid="attacker"), POLICY)
    with pytest.raises(TokenRejected, match="key id None"):
        verify_token(token(kid=None), POLICY)


def test_token_for_another_repository_is_refused() -> None:
    with pytest.raises(TokenRejected, match="repository"):
        verify_token(token(repository="someone/else"), POLICY)


def test_missing_expiry_or_actor_is_refused() -> None:
    with pytest.raises(TokenRejected, match="exp"):
        verify_token(token(exp=None), POLICY)
    with pytest.raises(TokenRejected, match="actor"):
        verify_token(token(actor=None), POLICY)


def test_algorithm_confusion_is_refused() -> None:
    hs = jwt.encode(claims(), "secret", algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(TokenRejected, match="algorithm"):
        verify_token(hs, POLICY)
    with pytest.raises(TokenRejected, match="not a JSON Web Token"):
        verify_token("not.a.jwt", POLICY)


def test_key_rotation_accepts_any_published_key() -> None:
    rotated = OidcPolicy(issuer=GITHUB_ISSUER, audience=AUDIENCE, repository=REPO,
                         jwks=jwks(("k1", ISSUER_KEY), ("k2", ATTACKER_KEY)))
    assert verify_token(token(key=ATTACKER_KEY, kid="k2"), rotated).verified


# -- resolution and policy --------------------------------------------------------------------------------------------


def test_resolve_without_token_is_unverified_and_normalized() -> None:
    record = resolve_identity(" Ana@Northstar.Example ", None, None)
    assert record == unverified("ana@northstar.example")
    assert record.verified is False and record.claims_digest is None


def test_resolve_with_token_refuses_a_contradicting_as() -> None:
    assert resolve_identity("Bo-Reviewer", token(), POLICY).verified
    with pytest.raises(IdentityError, match="contradicts"):
        resolve_identity("ana@northstar.example", token(), POLICY)
    with pytest.raises(UsageError, match="no verification policy"):
        resolve_identity(None, token(), None)


def test_require_verified_blocks_self_asserted_identities() -> None:
    require_verified("prod", False, unverified("ana@northstar.example"))
    require_verified("prod", True, verify_token(token(), POLICY))
    with pytest.raises(Blocked, match="requires a CI-verified identity"):
        require_verified("prod", True, unverified("ana@northstar.example"))


def test_policy_from_env(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(POLICY.jwks))
    policy = OidcPolicy.from_env({"NORTHSTAR_OIDC_JWKS": str(path), "NORTHSTAR_OIDC_REPOSITORY": REPO})
    assert (policy.issuer, policy.audience) == (GITHUB_ISSUER, AUDIENCE)
    assert verify_token(token(), policy).verified
    with pytest.raises(UsageError, match="NORTHSTAR_OIDC_REPOSITORY"):
        OidcPolicy.from_env({"NORTHSTAR_OIDC_JWKS": str(path)})
    path.write_text("[1, 2]")
    with pytest.raises(UsageError, match="keys"):
        OidcPolicy.from_env({"NORTHSTAR_OIDC_JWKS": str(path), "NORTHSTAR_OIDC_REPOSITORY": REPO})
