"""``Idempotency-Key`` on the HTTP API: whose key it is, and which request it stands for.

A key is the caller's own: :func:`scoped_key` turns (token ``sub``, key) into the receipt
key, with the subject's length in front, so the pair can be read back from it and two
different pairs never give one receipt (``sub=svc`` with key ``x:y`` and ``sub=svc:x`` with
key ``y`` are two keys). :func:`fingerprint` digests the request the key came with (method,
path and the validated body); the same key with another request is refused (422
``idempotency_key_reused``). Keys last ``HELPDESK_IDEMPOTENCY_KEY_TTL`` (default 24 hours),
then they are new again."""

from __future__ import annotations

import json
from hashlib import sha256
from typing import Any

KEY_MAX = 200
"""The longest ``Idempotency-Key`` accepted (422 beyond)."""
NAMESPACE = "idempotency"
"""Receipt keys of HTTP idempotency keys start with this; no other receipt key does."""


def scoped_key(sub: str, key: str | None) -> str | None:
    """The receipt key of caller ``sub``'s idempotency ``key`` (None without a key)."""
    return f"{NAMESPACE}:{len(sub)}:{sub}:{key}" if key else None


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of one request: its method, path and body as validated (JSON data; object
    keys in any order give the same digest)."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return sha256(canonical.encode()).hexdigest()
