"""Subscriptions: what the management API may register (target safety, event types) and
the changes it makes, each recorded in the store's audit table with its actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.webhooks.application.ports import SubscriptionStore
from services.webhooks.domain.targets import (
    TargetRefused,
    check_addresses,
    parse_target,
)
from services.webhooks.domain.types import unknown_types

Resolve = Callable[[str, int], Awaitable[list[str]]]

ROTATION_OVERLAP_SECONDS = 24 * 3600.0
"""After a rotation, deliveries are signed with both secrets for this long."""


@dataclass(frozen=True)
class TargetRules:
    allow_http: bool
    allowed_hosts: frozenset[str]


@dataclass(frozen=True)
class Management:
    """What the management API is given (the ticket service's bootstrap builds it with
    :func:`services.webhooks.bootstrap.build_management`)."""

    store: SubscriptionStore
    rules: TargetRules
    resolve: Resolve


class InvalidSubscription(ValueError):
    """Refused at registration (422); the message is safe to show."""


async def check_url(url: str, rules: TargetRules, resolve: Resolve) -> None:
    try:
        target = parse_target(url, allow_http=rules.allow_http)
        if target.host in rules.allowed_hosts:
            return
        try:
            addresses = await resolve(target.host, target.port)
        except OSError:
            raise TargetRefused(f"{target.host} does not resolve") from None
        check_addresses(target.host, addresses, rules.allowed_hosts)
    except TargetRefused as refused:
        raise InvalidSubscription(str(refused)) from None


def check_event_types(event_types: Sequence[str]) -> None:
    unknown = unknown_types(event_types)
    if unknown:
        raise InvalidSubscription(f"unknown event types: {', '.join(unknown)}")
