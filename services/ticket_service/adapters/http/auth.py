"""Bearer JWT authentication (HS256): claims ``sub``, ``email``, ``role``, optional ``org``
and ``org_wide``; ``exp`` required and at most ``HELPDESK_JWT_MAX_LIFETIME`` away;
``iss`` and ``aud`` checked when configured; the key picked by the header's ``kid`` among
``HELPDESK_JWT_SECRETS`` (no ``kid``: ``HELPDESK_JWT_SECRET``), so keys can be rotated.

A refused token is told why in this module's own words (:func:`refusal_messages`), never
in the JWT library's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contracts import limits
from contracts.common import Actor, Role
from services.local_jwt_secret import primary_secret
from services.settings import BUILTIN_JWT_SECRETS, Settings

ALGORITHM = "HS256"
TOKEN_ROLES = frozenset(Role) - {Role.AUTOMATION}
"""Roles a token may carry; the automation is the system itself, never a caller."""
MIN_SECRET_BYTES = 32
"""HS256 keys shorter than the hash (RFC 7518 §3.2) are refused at start-up."""
CLOCK_SKEW_SECONDS = 30
"""Leeway for the clocks of the token's minter and this service (``exp``, ``nbf``,
``iat`` and the lifetime bound)."""


class Claims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(max_length=limits.SUB_MAX)
    email: str | None = Field(None, max_length=limits.EMAIL_MAX)
    role: Role
    org: str | None = None
    org_wide: bool = False

    @field_validator("sub")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty subject")
        return value

    @property
    def actor(self) -> Actor:
        return Actor(role=self.role, email=self.email, sub=self.sub)


class InvalidToken(Exception):
    """A refused token; the message is one of :func:`refusal_messages`."""


class InsecureTokenSettings(ValueError):
    """The token settings must not be served with (a built-in or too short secret)."""


# ---- refusals, in our words -----------------------------------------------------------

MALFORMED = "The token is not a well-formed JWT."
EXPIRED = "The token has expired."
NOT_YET_VALID = "The token is not valid yet."
BAD_SIGNATURE = "The token's signature does not match."
WRONG_ALGORITHM = "The token is not signed with HS256."
UNKNOWN_KEY = "The token's key id (kid) is not one of this service's keys."
OTHER_ISSUER = "The token was issued by another issuer."
OTHER_AUDIENCE = "The token is meant for another audience."
TOO_LONG_LIVED = "The token lives longer than this service allows (HELPDESK_JWT_MAX_LIFETIME)."
ROLE_NOT_ALLOWED = "The token's role may not call the API."
NOT_VALID = "The token is not valid."
_CLAIMS = ("exp", "sub", "role", "iss", "aud", "iat", "nbf", "email", "org", "org_wide")


def _missing(claim: str) -> str:
    return f"The token has no {claim} claim."


def _invalid(claim: str) -> str:
    return f"The token's {claim} claim is not valid."


def refusal_messages() -> frozenset[str]:
    """Every reason a token is refused with (the ``detail`` of a 401)."""
    fixed = {
        MALFORMED,
        EXPIRED,
        NOT_YET_VALID,
        BAD_SIGNATURE,
        WRONG_ALGORITHM,
        UNKNOWN_KEY,
        OTHER_ISSUER,
        OTHER_AUDIENCE,
        TOO_LONG_LIVED,
        ROLE_NOT_ALLOWED,
        NOT_VALID,
    }
    return frozenset(fixed | {_missing(c) for c in _CLAIMS} | {_invalid(c) for c in _CLAIMS})


def _reason(error: jwt.PyJWTError) -> str:
    match error:
        case jwt.ExpiredSignatureError():
            return EXPIRED
        case jwt.ImmatureSignatureError():
            return NOT_YET_VALID
        case jwt.InvalidSignatureError():
            return BAD_SIGNATURE
        case jwt.InvalidAlgorithmError():
            return WRONG_ALGORITHM
        case jwt.MissingRequiredClaimError(claim=claim) if claim in _CLAIMS:
            return _missing(claim)
        case jwt.InvalidIssuerError():
            return OTHER_ISSUER
        case jwt.InvalidAudienceError():
            return OTHER_AUDIENCE
        case jwt.InvalidIssuedAtError():
            return _invalid("iat")
        case jwt.exceptions.InvalidSubjectError():
            return _invalid("sub")
        case jwt.DecodeError():
            return MALFORMED
    return NOT_VALID


def _claims_reason(error: ValidationError) -> str:
    for detail in error.errors():
        loc = detail.get("loc") or ()
        if loc and loc[0] in _CLAIMS:
            claim = str(loc[0])
            return _missing(claim) if detail.get("type") == "missing" else _invalid(claim)
    return NOT_VALID


# ---- the policy ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TokenPolicy:
    """How tokens are verified, from the settings. Compared and hashed by identity: verified
    tokens are remembered per policy, and a request should not pay for hashing its fields."""

    primary: str
    keys: tuple[tuple[str, str], ...] = ()
    max_lifetime_seconds: float = 24 * 3600
    issuer: str | None = None
    audience: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenPolicy:
        return cls(
            primary=primary_secret(settings),
            keys=tuple(sorted(settings.jwt_secrets.items())),
            max_lifetime_seconds=settings.jwt_max_lifetime.total_seconds(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def secret_for(self, kid: object) -> str:
        """The secret that signs tokens with this ``kid`` header (None: the primary)."""
        if kid is None:
            return self.primary
        for key_id, secret in self.keys:
            if key_id == kid:
                return secret
        raise InvalidToken(UNKNOWN_KEY)

    def problems(self) -> Iterator[str]:
        """Why this policy must not be served with, if it must not."""
        named = [("HELPDESK_JWT_SECRET", self.primary)] + [
            (f"HELPDESK_JWT_SECRETS[{kid}]", secret) for kid, secret in self.keys
        ]
        for name, secret in named:
            if secret in BUILTIN_JWT_SECRETS:
                yield (
                    f"{name} is the built-in development secret; set a secret of your own "
                    "(`helpdesk stack run` makes one per data directory)"
                )
            elif len(secret.encode()) < MIN_SECRET_BYTES:
                yield f"{name} is shorter than {MIN_SECRET_BYTES} bytes"

    def require_secure(self) -> None:
        """Raise :class:`InsecureTokenSettings` unless the policy may be served with."""
        problems = list(self.problems())
        if problems:
            raise InsecureTokenSettings(
                "refusing to serve with these token settings: " + "; ".join(problems)
            )


# ---- verification ----------------------------------------------------------------------


def decode_token(token: str, policy: TokenPolicy | str) -> Claims:
    """Verify and decode; a verified token is remembered until it expires (HMAC and JSON
    decoding are a noticeable share of a request's cost). A bare secret stands for a
    policy with that primary secret and the default lifetime bound."""
    if isinstance(policy, str):
        policy = _policy_of(policy)
    claims, expires = _verified(token, policy)
    if expires + CLOCK_SKEW_SECONDS <= time.time():
        raise InvalidToken(EXPIRED)
    return claims


@lru_cache(maxsize=16)
def _policy_of(secret: str) -> TokenPolicy:
    return TokenPolicy(primary=secret)


@lru_cache(maxsize=4096)
def _verified(token: str, policy: TokenPolicy) -> tuple[Claims, float]:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise InvalidToken(MALFORMED) from None
    secret = policy.secret_for(kid)
    required = ["exp", "sub", "role"]
    required += ["iss"] if policy.issuer is not None else []
    required += ["aud"] if policy.audience is not None else []
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=policy.issuer,
            audience=policy.audience,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": required, "verify_aud": policy.audience is not None},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(_reason(error)) from None
    expires = float(payload["exp"])
    _check_lifetime(expires, payload.get("iat"), policy.max_lifetime_seconds)
    try:
        claims = Claims.model_validate(payload)
    except ValidationError as error:
        raise InvalidToken(_claims_reason(error)) from None
    if claims.role not in TOKEN_ROLES:
        raise InvalidToken(ROLE_NOT_ALLOWED)
    return claims, expires


def _check_lifetime(expires: float, issued: object, max_lifetime: float) -> None:
    """``exp`` at most the allowed lifetime from now, and from ``iat`` when present."""
    bound = max_lifetime + CLOCK_SKEW_SECONDS
    if expires - time.time() > bound:
        raise InvalidToken(TOO_LONG_LIVED)
    if isinstance(issued, int | float) and expires - issued > bound:
        raise InvalidToken(TOO_LONG_LIVED)


# ---- minting ---------------------------------------------------------------------------


def mint_token(
    secret: str,
    *,
    role: Role | str,
    email: str | None,
    sub: str | None = None,
    org: str | None = None,
    org_wide: bool = False,
    ttl: timedelta = timedelta(hours=12),
    kid: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A token signed with ``secret`` (named ``kid`` in its header when given)."""
    if ttl.total_seconds() <= 0:
        raise ValueError("a token's lifetime must be positive")
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": sub or email or str(role),
        "role": Role(role).value,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if email:
        payload["email"] = email
    if org:
        payload["org"] = org
    if org_wide:
        payload["org_wide"] = True
    if issuer:
        payload["iss"] = issuer
    if audience:
        payload["aud"] = audience
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers=headers)
