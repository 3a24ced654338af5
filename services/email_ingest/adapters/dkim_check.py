"""In-process DKIM verification (dkimpy) for a deployment without an authenticating mail
server in front (``HELPDESK_EMAIL_DKIM_VERIFY=true``, no ``HELPDESK_EMAIL_AUTHSERV_ID``).

Only DKIM can be checked here: SPF needs the connecting IP and DMARC a policy lookup, both
the mail server's business. So a mail passes only with a valid signature whose ``d=`` is
aligned with the ``From`` domain; anything else is ``fail`` (suspended if it would act on a
ticket). Key lookups go to DNS (dnspython) off the event loop; tests pass ``dnsfunc``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import dkim

from services.email_ingest.domain.authenticity import (
    Authenticity,
    Outcome,
    aligned,
    domain_of,
)
from services.email_ingest.domain.message import ParsedEmail

log = logging.getLogger("helpdesk.email_ingest.dkim")

MAX_SIGNATURES = 5
DnsTxt = Callable[..., bytes | None]
"""``dnsfunc(name: bytes, timeout=…) -> TXT record bytes | None`` (dkimpy's contract)."""


class DkimVerifier:
    def __init__(self, dnsfunc: DnsTxt | None = None, *, timeout: int = 5) -> None:
        self.dnsfunc: DnsTxt = dnsfunc or dkim.get_txt
        self.timeout = timeout

    async def assess(self, raw: bytes, mail: ParsedEmail) -> Authenticity:
        return await asyncio.to_thread(self.check, raw, mail.sender)

    def check(self, raw: bytes, sender: str | None) -> Authenticity:
        from_domain = domain_of(sender)
        seen: list[str] = []
        try:
            verifier = dkim.DKIM(raw, timeout=self.timeout)
        except Exception as error:
            return Authenticity(Outcome.FAIL, f"dkim: unreadable message ({error})")
        count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
        if count == 0:
            return Authenticity(Outcome.FAIL, "dkim=none (no signature)")
        for idx in range(min(count, MAX_SIGNATURES)):
            verifier.domain = b""
            try:
                ok = verifier.verify(idx=idx, dnsfunc=self.dnsfunc)
            except Exception as error:  # malformed signature, DNS trouble
                log.info("dkim signature %d not verifiable: %s", idx, error)
                ok = False
            domain = (getattr(verifier, "domain", b"") or b"").decode("ascii", "replace").lower()
            seen.append(f"dkim={'pass' if ok else 'fail'} header.d={domain or '?'}")
            if ok and aligned(domain, from_domain):
                return Authenticity(Outcome.PASS, f"dkim=pass header.d={domain} (in process)")
        return Authenticity(Outcome.FAIL, "no aligned dkim pass: " + "; ".join(seen))
