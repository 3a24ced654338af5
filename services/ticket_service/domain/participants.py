"""Who takes part in a ticket: its requester and its CC'd users, compared case-insensitively.
The one rule behind the help center's participant view, My requests, and which mail senders
may act on a ticket."""

from __future__ import annotations

from collections.abc import Iterable


def participants(requester: str, cc: Iterable[str]) -> frozenset[str]:
    """The participants' addresses, lower-cased."""
    return frozenset((requester.lower(), *(c.lower() for c in cc)))


def is_participant(address: str | None, requester: str, cc: Iterable[str]) -> bool:
    if not address:
        return False
    address = address.lower()
    return address == requester.lower() or any(address == c.lower() for c in cc)
