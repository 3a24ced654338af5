"""Submission to the SMTP relay with aiosmtplib: one connection per delivery worker, kept
open between mails, optional STARTTLS and AUTH.

Outcomes: the relay's 250 → the reply text; a 5xx (sender, recipient or data refused) →
:class:`PermanentFailure` with the code and text; a 4xx, a refused or dropped connection
or a timeout, a refused AUTH (the credentials are wrong, not the mail) →
:class:`TemporaryFailure` (the delivery loop retries with backoff).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosmtplib

from services.operator_errors import OperatorError
from services.outbound_mail.application.ports import PermanentFailure, TemporaryFailure


@dataclass(frozen=True)
class RelaySettings:
    host: str
    port: int
    starttls: bool = False
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def parse(cls, relay: str, **options: object) -> RelaySettings:
        host, sep, port = relay.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise OperatorError(f"HELPDESK_SMTP_RELAY must be host:port (got {relay!r})")
        return cls(host.strip("[]"), int(port), **options)  # type: ignore[arg-type]


def _failure(code: int, text: str) -> Exception:
    reason = f"{code} {text}".strip()
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class SmtpRelay:
    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            start_tls=s.starttls,
            cert_bundle=s.ca_file,
            username=s.username,
            password=s.password,
        )
        await client.connect()
        self._client = client
        return client

    async def send(self, sender: str, recipient: str, raw: bytes) -> str:
        reused = self._client is not None and self._client.is_connected
        try:
            return await self._send_once(sender, recipient, raw)
        except aiosmtplib.SMTPServerDisconnected:
            await self.close()
            if not reused:
                raise TemporaryFailure("relay closed the connection") from None
        # the relay dropped an idle connection: one fresh one, at once
        try:
            return await self._send_once(sender, recipient, raw)
        except aiosmtplib.SMTPServerDisconnected as error:
            await self.close()
            raise TemporaryFailure(f"relay closed the connection: {error}") from None

    async def _send_once(self, sender: str, recipient: str, raw: bytes) -> str:
        try:
            client = await self._connected()
            _, reply = await client.sendmail(sender, [recipient], raw)
            return reply
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients[0] if error.recipients else None
            if refused is None:
                raise TemporaryFailure("recipient refused") from None
            raise _failure(refused.code, refused.message) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            # our credentials, not this mail: keep it pending until the operator fixes them
            await self.close()
            raise TemporaryFailure(f"authentication: {error.code} {error.message}") from None
        except aiosmtplib.SMTPResponseException as error:
            if not 500 <= error.code < 600:
                await self.close()
            raise _failure(error.code, error.message) from None
        except (OSError, aiosmtplib.SMTPException) as error:
            # refused or reset connection, timeout, TLS trouble: try later on a new one
            await self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (OSError, aiosmtplib.SMTPException):
            client.close()
