"""Which URLs a webhook may target (docs/webhooks.md#safety).

https only unless http is allowed; the host must not be, or resolve to, a loopback,
private, link-local, multicast, unspecified, reserved or cloud-metadata address, unless it
is in the allowlist. Checked at registration and again at every connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("100.100.100.200"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)


class TargetRefused(ValueError):
    """The URL may not be a webhook target (the reason is safe to show)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def allowlist(value: str | Iterable[str]) -> frozenset[str]:
    parts = value.split(",") if isinstance(value, str) else value
    return frozenset(p.strip().lower().strip("[]") for p in parts if p.strip())


def parse_target(url: str, *, allow_http: bool) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"not a URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise TargetRefused("the URL must be https" + (" or http" if allow_http else ""))
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry credentials")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


def forbidden(address: str) -> str | None:
    """Why ``address`` may not be connected to, or None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for reason, hit in (
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("an unspecified address", ip.is_unspecified),
        ("a private address", ip.is_private),
        ("a reserved address", ip.is_reserved),
    ):
        if hit:
            return reason
    return None


def check_addresses(host: str, addresses: Iterable[str], allowed: frozenset[str]) -> None:
    """Raise unless every address ``host`` resolved to may be used (or the host is allowed)."""
    if host.lower() in allowed:
        return
    found = list(addresses)
    if not found:
        raise TargetRefused(f"{host} does not resolve")
    for address in found:
        if address.lower() in allowed:
            continue
        reason = forbidden(address)
        if reason is not None:
            raise TargetRefused(f"{host} resolves to {address}, {reason}")
