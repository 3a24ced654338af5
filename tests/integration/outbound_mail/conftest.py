"""Outbound mail against a real aiosmtpd relay on loopback (``tests/fixtures/smtp_relay``);
the acceptance tests add the email stack's ticket service, ingest and broker
(``tests/integration/email/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.smtp_relay import SmtpRelay


@pytest.fixture
def relay() -> Iterator[SmtpRelay]:
    relay = SmtpRelay().start()
    try:
        yield relay
    finally:
        relay.stop()
