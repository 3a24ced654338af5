"""Who vouches for a mail's sender: our mail server's verdict, an in-process DKIM check, or
nobody (today's behaviour). Chosen at start-up from the settings (bootstrap)."""

from __future__ import annotations

from typing import Protocol

from services.email_ingest.domain.authenticity import UNCHECKED, Authenticity, assess
from services.email_ingest.domain.message import ParsedEmail


class Authenticator(Protocol):
    async def assess(self, raw: bytes, mail: ParsedEmail) -> Authenticity: ...


class MtaVerdict:
    """The topmost ``Authentication-Results`` header of our own server (RFC 8601)."""

    def __init__(self, authserv_id: str) -> None:
        if not authserv_id.strip():
            raise ValueError("authserv-id is empty")
        self.authserv_id = authserv_id.strip()

    async def assess(self, raw: bytes, mail: ParsedEmail) -> Authenticity:
        return assess(mail.authentication_results, self.authserv_id, mail.sender)


class Unchecked:
    """No check: every sender is trusted as written (a warning at start-up says so)."""

    async def assess(self, raw: bytes, mail: ParsedEmail) -> Authenticity:
        return UNCHECKED
