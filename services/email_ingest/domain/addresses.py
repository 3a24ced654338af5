"""The support address and its ``+<n>`` plus-addressed variants."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLUS_NUMBER = re.compile(r"^(?P<local>[^+@]+)\+(?P<tag>[^@]*)@(?P<domain>[^@]+)$")


@dataclass(frozen=True)
class SupportAddress:
    """``support@example.com`` accepts ``support+123@example.com`` (ticket #123) too."""

    address: str

    @property
    def local(self) -> str:
        return self.address.lower().split("@")[0]

    @property
    def domain(self) -> str:
        return self.address.lower().rpartition("@")[2]

    def is_ours(self, address: str) -> bool:
        address = address.strip().lower()
        if address == self.address.lower():
            return True
        match = _PLUS_NUMBER.match(address)
        return bool(match and match["local"] == self.local and match["domain"] == self.domain)

    def ticket_number(self, address: str) -> int | None:
        """``support+123@…`` → 123; None for anything else."""
        match = _PLUS_NUMBER.match(address.strip().lower())
        if not match or match["local"] != self.local or match["domain"] != self.domain:
            return None
        tag = match["tag"]
        return int(tag) if tag.isascii() and tag.isdigit() and len(tag) <= 12 else None
