"""The optional in-process DKIM check: a local key (tests/data/dkim, made for these tests
only) and a stub resolver; never the network."""

from __future__ import annotations

from pathlib import Path

import dkim
import pytest

from contracts.commands import AddComment
from services.email_ingest.adapters.dkim_check import DkimVerifier
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.authenticity import Outcome
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket, mail

KEYS = Path(__file__).parents[2] / "data" / "dkim"
PRIVATE = (KEYS / "test-selector.key").read_bytes()
RECORD = (KEYS / "test-selector.txt").read_bytes().strip()


def resolver(name: bytes, timeout: int = 5) -> bytes | None:
    """Only ``test._domainkey.example.com`` exists."""
    return RECORD if name.rstrip(b".") == b"test._domainkey.example.com" else None


def signed(raw: bytes, domain: bytes = b"example.com") -> bytes:
    signature = dkim.sign(
        raw, b"test", domain, PRIVATE, include_headers=[b"from", b"subject", b"message-id"]
    )
    return signature + raw


@pytest.fixture
def verifier() -> DkimVerifier:
    return DkimVerifier(resolver)


def test_aligned_signature_passes(verifier: DkimVerifier) -> None:
    verdict = verifier.check(signed(mail(sender="ann@example.com")), "ann@example.com")
    assert verdict.outcome == Outcome.PASS, verdict.reason
    sub = verifier.check(signed(mail(sender="ann@eu.example.com")), "ann@eu.example.com")
    assert sub.outcome == Outcome.PASS


@pytest.mark.parametrize(
    ("raw", "sender"),
    [
        (mail(sender="ann@example.com"), "ann@example.com"),  # unsigned
        (signed(mail(sender="mallory@evil.example")), "mallory@evil.example"),  # unaligned
        (signed(mail(sender="ann@example.com"), b"evil.example"), "ann@example.com"),  # no key
        (signed(mail(sender="ann@example.com")).replace(b"fire", b"ice"), "ann@example.com"),
        (b"DKIM-Signature: v=1; garbage\r\nFrom: ann@example.com\r\n\r\nx", "ann@example.com"),
    ],
)
def test_anything_else_fails(verifier: DkimVerifier, raw: bytes, sender: str) -> None:
    assert verifier.check(raw, sender).outcome == Outcome.FAIL


async def test_ingest_suspends_unsigned_replies_and_accepts_signed_ones(
    tmp_path: Path, verifier: DkimVerifier
) -> None:
    index = SqliteTicketIndex()
    add_ticket(index, 3, requester="ann@example.com")
    publisher = RecordingPublisher()
    service = IngestService(
        index=index,
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=FileSuspendedQueue(tmp_path / "s"),
        support=SupportAddress(SUPPORT),
        max_bytes=100_000,
        authenticator=verifier,
    )
    forged = await service.ingest(mail(sender="ann@example.com", subject="[#3]"))
    assert forged.kind == Kind.SUSPENDED
    genuine = await service.ingest(signed(mail(sender="ann@example.com", subject="[#3]")))
    assert genuine.kind == Kind.REPLIED
    [command] = publisher.published
    assert isinstance(command, AddComment) and command.ticket_number == 3
