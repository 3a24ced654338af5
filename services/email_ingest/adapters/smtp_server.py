"""The SMTP front door (aiosmtpd). RCPT accepts only the support address and its plus
variants; DATA answers 250 only after :meth:`IngestService.ingest` returned, i.e. once the
message was published (acks=all), quarantined, or deliberately dropped; when the broker
cannot take it the answer is 451 and the sending server retries later."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.email_ingest.application.ingest import IngestService
from services.email_ingest.application.ports import PublishFailed
from services.email_ingest.domain.addresses import SupportAddress

log = logging.getLogger("helpdesk.email_ingest.smtp")
LINE_LENGTH_LIMIT = 4 * 1024 * 1024


class LenientSMTP(SMTP):
    """RFC 5321 caps lines at 1000 octets; real mail breaks that (huge headers, unwrapped
    HTML). Refusing would bounce mail we can still keep, so long lines are read and the
    message is processed or quarantined like any other."""

    line_length_limit = LINE_LENGTH_LIMIT


class IngestHandler:
    def __init__(self, service: IngestService, support: SupportAddress) -> None:
        self.service = service
        self.support = support

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.support.is_ours(address):
            return "550 5.1.1 Not a support address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "replace")
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "", "<>") else None
        try:
            outcome = await self.service.ingest(
                raw, mail_from=mail_from, recipients=tuple(envelope.rcpt_tos)
            )
        except PublishFailed as error:
            log.warning("could not hand on a message, answering 451: %s", error)
            return "451 4.3.0 Temporarily unable to accept the message; try again later"
        return f"250 2.0.0 OK {outcome.kind.value}"


async def start_smtp_server(
    service: IngestService,
    support: SupportAddress,
    host: str,
    port: int,
    *,
    data_size_limit: int,
    hostname: str | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 picks a free port) in the running event loop."""
    handler = IngestHandler(service, support)
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return LenientSMTP(
            handler,
            data_size_limit=data_size_limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname,
            ident="helpdesk email ingest",
        )

    return await loop.create_server(factory, host=host, port=port)
