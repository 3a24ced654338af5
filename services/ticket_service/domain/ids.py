"""Deterministic ids: the same fact always maps to the same aggregate id, so a second
attempt to create it collides in the store instead of creating a twin."""

from __future__ import annotations

from hashlib import sha1
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1d2e-8a4b-4f7e-9a43-1d0c2b8e5a10")
POLICY_ID = uuid5(NAMESPACE, "auto-close-policy")
ORGANIZATION_DIRECTORY_ID = uuid5(NAMESPACE, "organization-directory")
_NAMESPACE_BYTES = NAMESPACE.bytes


def _name_based(name: str) -> UUID:
    """``uuid5(NAMESPACE, name)``, without converting the namespace to bytes on every call
    (two of these per command on the hot path)."""
    return UUID(bytes=sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16], version=5)


def ticket_id_for(number: int) -> UUID:
    """A ticket's id follows from its number, which makes numbers unique in the store."""
    return _name_based(f"ticket:{number}")


def receipt_id_for(key: str) -> UUID:
    return _name_based(f"receipt:{key}")
