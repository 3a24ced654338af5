"""Every message of the hostile corpus is processed, quarantined or suspended with a reason;
none crashes the ingest, none is lost (in-memory publisher; the SMTP + broker run is in
tests/integration). With and without the authentication policy."""

from pathlib import Path

import pytest

from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.authentication import MtaVerdict, Unchecked
from services.email_ingest.application.ingest import IngestService, Kind
from services.email_ingest.domain.addresses import SupportAddress
from tests.data.email_corpus.hostile import big_attachment_message, hostile_corpus
from tests.unit.email.fakes import SUPPORT, RecordingPublisher


@pytest.mark.parametrize("checked", [False, True], ids=["unchecked", "authserv_id"])
async def test_hostile_corpus_is_processed_or_quarantined(tmp_path: Path, checked: bool) -> None:
    corpus = hostile_corpus()
    assert len(corpus) >= 200
    quarantine = FileQuarantine(tmp_path / "q")
    suspended = FileSuspendedQueue(tmp_path / "s")
    service = IngestService(
        index=SqliteTicketIndex(),
        publisher=RecordingPublisher(),
        quarantine=quarantine,
        suspended=suspended,
        support=SupportAddress(SUPPORT),
        max_bytes=25 * 1024 * 1024,
        resolve_wait=0,
        authenticator=MtaVerdict("mx.helpdesk.localhost") if checked else Unchecked(),
    )
    kinds: dict[str, int] = {}
    for name, raw in corpus:
        outcome = await service.ingest(raw)
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
        if outcome.kind == Kind.QUARANTINED:
            assert outcome.reason, name
            assert outcome.quarantine_id is not None
            assert quarantine.get(outcome.quarantine_id)[0] == raw, name
        elif outcome.kind == Kind.SUSPENDED:
            assert outcome.reason and outcome.suspended_id is not None, name
            assert suspended.raw(outcome.suspended_id) == raw, name
        else:
            assert outcome.kind in set(Kind), name
    kept = {q.id: q.reason for q in quarantine.list()}
    assert all(kept.values())
    assert kinds.get(Kind.CREATED, 0) > 100
    assert kinds.get(Kind.DROPPED, 0) >= 20
    assert "internal_error" not in kept.values()


async def test_twenty_megabyte_attachment(tmp_path: Path) -> None:
    publisher = RecordingPublisher()
    service = IngestService(
        index=SqliteTicketIndex(),
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=FileSuspendedQueue(tmp_path / "s"),
        support=SupportAddress(SUPPORT),
        max_bytes=40 * 1024 * 1024,
    )
    outcome = await service.ingest(big_attachment_message())
    assert outcome.kind == Kind.CREATED
    description = publisher.published[0].data.description  # type: ignore[attr-defined]
    assert "big.bin (application/octet-stream, 20971520 bytes)" in description
    # with the default 25 MiB limit the base64-encoded message (~27 MB) is kept whole
    service.max_bytes = 25 * 1024 * 1024
    outcome = await service.ingest(big_attachment_message(i=1))
    assert (outcome.kind, outcome.reason) == (Kind.QUARANTINED, "too_large")
