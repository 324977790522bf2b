"""Who acted: identity normalization for every actor/approver, and CI-verified identities from OIDC tokens.

Why normalization: separation of duties compares identities as strings. Without one canonical spelling, the author's
e-mail with a zero-width space, a Cyrillic "а" in place of a Latin "a", trailing blanks or a newline would count as a
second, distinct approver. Every identity that enters a record (``--as``, CI variables, git e-mail, token claims) goes
through ``normalize_identity`` first: NFKC, trimmed, e-mails lower-cased; empty values, control characters, zero-width
and other invisible format characters, and letters from more than one script are refused.

Why OIDC: ``--as`` and CI variables are self-asserted. A CI run can instead present a JSON Web Token signed by the CI's
OIDC issuer (GitHub Actions: https://token.actions.githubusercontent.com). ``verify_token`` checks its signature
against the issuer's published key set (JWKS), the issuer, the audience, the expiry and not-before times, and the
repository the token was minted for (every repository on GitHub shares the issuer, so audience alone proves little).
The resulting ``IdentityRecord`` says ``verified=True`` and carries a digest of the claims -- never the token, which
is a bearer credential and must not reach state, logs or audit records. Without a token the record says
``verified=False``; environments with ``require_verified_identity`` refuse such records.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict

from northstar_release.errors import Blocked, UsageError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_AUDIENCE = "northstar-release"
ALGORITHMS = ("RS256",)

# Invisible characters that are not category Cf but render as nothing (Hangul fillers, Mongolian vowel separator...).
_INVISIBLE = frozenset("\u115f\u1160\u180e\u3164\uffa0\u2800")
# Scripts that legitimately mix in one name (Japanese writes Han, Hiragana and Katakana together).
_SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "CJK": "CJK"}


class IdentityError(UsageError):
    """An identity string is not acceptable (exit 2): names the field and the rule it broke."""


class TokenRejected(Blocked):
    """An OIDC token failed verification (exit 1): forged, expired, wrong audience/issuer/repository, unknown key."""


def _script(ch: str) -> str | None:
    """The Unicode script family of a letter, from its character name (``LATIN SMALL LETTER A`` -> ``LATIN``)."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0] if name else "UNKNOWN"
    return _SCRIPT_GROUPS.get(first, first)


def normalize_identity(raw: object, *, field: str = "identity") -> str:
    """The canonical spelling of an identity, or IdentityError naming ``field`` and the rule.

    Rules: NFKC (so full-width and compatibility forms collapse), leading/trailing whitespace trimmed, e-mail addresses
    (anything with ``@``) lower-cased; refused when empty, when containing control characters (a newline included),
    zero-width or other invisible format characters, whitespace other than a plain space, or letters of more than one
    script (a Latin name with one Cyrillic letter is a homoglyph attack, not a person).
    """
    if not isinstance(raw, str):
        raise IdentityError(f"{field}: identity must be text, got {type(raw).__name__}")
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise IdentityError(f"{field}: identity is empty (or only whitespace)")
    scripts: dict[str, str] = {}
    for ch in value:
        category = unicodedata.category(ch)
        code = f"U+{ord(ch):04X}"
        if category in ("Cc", "Cs", "Co", "Cn"):
            raise IdentityError(f"{field}: identity contains control or unassigned character {code}")
        if category == "Cf" or ch in _INVISIBLE:
            raise IdentityError(f"{field}: identity contains an invisible (zero-width/format) character {code}")
        if category.startswith("Z") and ch != " ":
            raise IdentityError(f"{field}: identity contains whitespace other than a plain space ({code})")
        script = _script(ch)
        if script is not None:
            scripts.setdefault(script, ch)
    if len(scripts) > 1:
        shown = ", ".join(f"{s} ({c!r})" for s, c in sorted(scripts.items()))
        raise IdentityError(f"{field}: identity mixes letters of several scripts: {shown}")
    if "@" in value:
        value = value.lower()
    return value


class IdentityRecord(BaseModel):
    """Who acted, and whether the CI vouched for it. Stored in audit payloads (``identity``) and shown in evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    verified: bool
    issuer: str | None = None
    claims_digest: str | None = None
    actor: str | None = None
    environment: str | None = None
    repository: str | None = None
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def unverified(who: str, *, field: str = "--as") -> IdentityRecord:
    """A self-asserted identity (``--as``, CI variables, git e-mail): normalized, and marked unverified."""
    return IdentityRecord(subject=normalize_identity(who, field=field), verified=False)


@dataclass(frozen=True)
class OidcPolicy:
    """What a token must satisfy: signed by a key in ``jwks``, from ``issuer``, for ``audience`` and ``repository``."""

    issuer: str
    audience: str
    repository: str
    jwks: Mapping[str, Any]
    leeway_s: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OidcPolicy:
        """NORTHSTAR_OIDC_JWKS (a JWKS JSON file, required), NORTHSTAR_OIDC_REPOSITORY (owner/name, required),
        NORTHSTAR_OIDC_ISSUER (default GitHub's), NORTHSTAR_OIDC_AUDIENCE (default ``northstar-release``).

        Why a file and no network fetch: the key set is evidence too; CI downloads it once
        (``.github/scripts/oidc-token``) and the verifier reads exactly those bytes."""
        env = os.environ if environ is None else environ
        jwks_path = env.get("NORTHSTAR_OIDC_JWKS", "").strip()
        repository = env.get("NORTHSTAR_OIDC_REPOSITORY", "").strip()
        missing = [name for name, value in (("NORTHSTAR_OIDC_JWKS", jwks_path),
                                            ("NORTHSTAR_OIDC_REPOSITORY", repository)) if not value]
        if missing:
            raise UsageError(f"cannot verify an OIDC token: set {' and '.join(missing)}",
                             ["NORTHSTAR_OIDC_JWKS: path of the issuer's JWKS (JSON); NORTHSTAR_OIDC_REPOSITORY: "
                              "owner/name the token must be minted for"])
        try:
            jwks = json.loads(Path(jwks_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{jwks_path}: not a readable JWKS JSON document ({exc})") from exc
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise UsageError(f"{jwks_path}: a JWKS must be a JSON object with a `keys` list")
        return cls(issuer=env.get("NORTHSTAR_OIDC_ISSUER", "").strip() or GITHUB_ISSUER,
                   audience=env.get("NORTHSTAR_OIDC_AUDIENCE", "").strip() or DEFAULT_AUDIENCE,
                   repository=repository, jwks=jwks)


def claims_digest(claims: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the verified claims: lets an auditor match a record to the CI run's token
    without the token itself being stored."""
    text = json.dumps(dict(claims), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signing_key(token: str, jwks: Mapping[str, Any]) -> Any:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenRejected("OIDC token refused: not a JSON Web Token", [str(exc)]) from exc
    kid = header.get("kid")
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejected(f"OIDC token refused: algorithm {header.get('alg')!r} is not allowed",
                            [f"allowed: {', '.join(ALGORITHMS)}"])
    try:
        keys = jwt.PyJWKSet.from_dict(dict(jwks)).keys
    except jwt.PyJWTError as exc:
        raise UsageError(f"the issuer key set (JWKS) is unusable: {exc}") from exc
    for key in keys:
        if kid is not None and key.key_id == kid:
            return key.key
    raise TokenRejected(f"OIDC token refused: signing key id {kid!r} is not in the issuer's key set",
                        ["the token was signed by a key the issuer does not publish (forged, or a stale JWKS)"])


def verify_token(token: str, policy: OidcPolicy) -> IdentityRecord:
    """Validate ``token`` against ``policy`` and map its claims to a verified ``IdentityRecord``.

    Refuses (TokenRejected, exit 1) a bad signature, an unknown key id, a wrong issuer or audience, an expired or
    not-yet-valid token, a token for another repository, and a token without an ``actor`` claim."""
    token = token.strip()
    key = _signing_key(token, policy.jwks)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key=key, algorithms=list(ALGORITHMS), audience=policy.audience, issuer=policy.issuer,
            leeway=policy.leeway_s, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("OIDC token refused: expired", [str(exc)]) from exc
    except jwt.ImmatureSignatureError as exc:
        raise TokenRejected("OIDC token refused: not valid yet (nbf/iat in the future)", [str(exc)]) from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenRejected(f"OIDC token refused: audience is not {policy.audience!r}", [str(exc)]) from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenRejected(f"OIDC token refused: issuer is not {policy.issuer!r}", [str(exc)]) from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("OIDC token refused: signature does not verify (forged or altered)", [str(exc)]) from exc
    except jwt.PyJWTError as exc:
        raise TokenRejected(f"OIDC token refused: {exc}") from exc
    repository = claims.get("repository")
    if repository != policy.repository:
        raise TokenRejected(f"OIDC token refused: minted for repository {repository!r}, not {policy.repository!r}")
    actor = claims.get("actor")
    if not isinstance(actor, str):
        raise TokenRejected("OIDC token refused: it carries no `actor` claim")
    run_id = claims.get("run_id")
    environment = claims.get("environment")
    return IdentityRecord(
        subject=normalize_identity(actor, field="token claim actor"),
        verified=True,
        issuer=policy.issuer,
        claims_digest=claims_digest(claims),
        actor=actor,
        environment=str(environment) if environment is not None else None,
        repository=str(repository),
        run_id=str(run_id) if run_id is not None else None,
    )


def resolve_identity(asserted: str | None, token: str | None, policy: OidcPolicy | None) -> IdentityRecord:
    """The identity of one command: verified from ``token`` when given, else the normalized self-asserted one.

    An asserted identity that contradicts the token's subject is refused: the record must never say one person while
    the CI vouches for another."""
    if token is not None:
        if policy is None:
            raise UsageError("an OIDC token was given but no verification policy (issuer key set) is configured")
        record = verify_token(token, policy)
        if asserted is not None and normalize_identity(asserted, field="--as") != record.subject:
            raise IdentityError(f"--as {asserted!r} contradicts the CI-verified identity {record.subject!r}")
        return record
    if asserted is None:
        raise IdentityError("no identity: pass --as USER or an OIDC token")
    return unverified(asserted)


def require_verified(env_name: str, required: bool, record: IdentityRecord) -> None:
    """Refuse (exit 1) an unverified identity in an environment declared ``require_verified_identity: true``."""
    if required and not record.verified:
        raise Blocked(f"{env_name} requires a CI-verified identity; {record.subject} is self-asserted (unverified)",
                      [f"run this from the CI workflow with an OIDC token (--oidc-token FILE), not with --as; "
                       f"environments.yaml: environments.{env_name}.require_verified_identity is true"])
