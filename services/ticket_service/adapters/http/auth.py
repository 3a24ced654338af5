"""Bearer JWT authentication (HS256, ``HELPDESK_JWT_SECRET``): claims ``sub``, ``email``,
``role``, optional ``org`` and ``org_wide``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import limits
from contracts.common import Actor, Role

ALGORITHM = "HS256"
TOKEN_ROLES = frozenset(Role) - {Role.AUTOMATION}
"""Roles a token may carry; the automation is the system itself, never a caller."""


class Claims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(max_length=limits.SUB_MAX)
    email: str | None = Field(None, max_length=limits.EMAIL_MAX)
    role: Role
    org: str | None = None
    org_wide: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(role=self.role, email=self.email, sub=self.sub)


class InvalidToken(Exception):
    pass


def decode_token(token: str, secret: str) -> Claims:
    """Verify and decode; a verified token is remembered until it expires (HMAC and JSON
    decoding are a noticeable share of a request's cost)."""
    claims, expires = _verified(token, secret)
    if expires is not None and expires <= time.time():
        _verified.cache_clear()
        return _decode(token, secret)  # raises: expired
    return claims


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[Claims, float | None]:
    claims = _decode(token, secret)
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return claims, float(expires) if expires is not None else None


def _decode(token: str, secret: str) -> Claims:
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role"]}
        )
        claims = Claims.model_validate(payload)
    except (jwt.PyJWTError, ValidationError) as error:
        raise InvalidToken(str(error)) from None
    if claims.role not in TOKEN_ROLES:
        raise InvalidToken(f"role {claims.role} cannot call the API")
    return claims


def mint_token(
    secret: str,
    *,
    role: Role | str,
    email: str | None,
    sub: str | None = None,
    org: str | None = None,
    org_wide: bool = False,
    ttl: timedelta | None = timedelta(hours=12),
) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": sub or email or str(role),
        "role": Role(role).value,
        "iat": int(now.timestamp()),
    }
    if email:
        payload["email"] = email
    if org:
        payload["org"] = org
    if org_wide:
        payload["org_wide"] = True
    if ttl is not None:
        payload["exp"] = int((now + ttl).timestamp())
    return jwt.encode(payload, secret, algorithm=ALGORITHM)
