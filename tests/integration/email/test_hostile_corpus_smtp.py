"""The hostile corpus over SMTP into the real broker: no crash, every message answered 250
and either handed on / deliberately dropped, or kept whole in quarantine with a reason."""

from __future__ import annotations

import re
from collections import Counter

from services.email_ingest.entrypoints.main import retry_quarantined
from tests.data.email_corpus.hostile import big_attachment_message, hostile_corpus
from tests.integration.email.conftest import EmailStack
from tests.unit.email.fakes import mail

OUTCOME = re.compile(r"^2\.0\.0 OK (\w+)$")


async def test_hostile_corpus_over_smtp(stack: EmailStack) -> None:
    corpus = [*hostile_corpus(), ("attachment-20mb", big_attachment_message())]
    assert len(corpus) >= 200
    outcomes: Counter[str] = Counter()
    for name, raw in corpus:
        code, reply = await stack.send(raw)
        assert code == 250, (name, code, reply)
        match = OUTCOME.match(reply)
        assert match, (name, reply)
        outcomes[match.group(1)] += 1
    kept = stack.ingest.quarantine.list()
    assert outcomes["quarantined"] > 0
    assert len(kept) == len({q.id for q in kept})
    assert all(q.reason for q in kept)
    assert "internal_error" not in {q.reason for q in kept}
    assert {q.reason for q in kept if q.size > 20 * 1024 * 1024} == {"too_large"}
    held = stack.ingest.suspended.list()  # ambiguous senders: kept whole, with the reason
    assert len({s.id for s in held}) == len(held) <= outcomes["suspended"]
    assert all(s.reason and stack.ingest.suspended.raw(s.id) for s in held)
    # Every handed-on creation became a ticket: the barrier mail is the next number.
    created = outcomes["create_ticket"]
    code, _ = await stack.send(mail(message_id="<corpus-barrier@example.com>"))
    assert code == 250
    assert await stack.indexed("<corpus-barrier@example.com>") == created + 1
    assert len(stack.tickets()) == created + 1
    assert sum(outcomes.values()) == len(corpus)


async def test_quarantine_retry_hands_on_what_now_fits(stack: EmailStack) -> None:
    raw = mail(message_id="<big@example.com>", body="x" * 2000)
    stack.ingest.service.max_bytes = 1000
    code, reply = await stack.send(raw)
    assert (code, reply) == (250, "2.0.0 OK quarantined")
    [entry] = stack.ingest.quarantine.list()
    assert entry.reason == "too_large"
    assert entry.size >= len(raw)  # as received: smtplib ends the data with CRLF
    lines: list[str] = []
    failed = await retry_quarantined(stack.settings, None, max_bytes=10_000, echo=lines.append)
    assert failed == 0
    assert lines == [f"{entry.id}: create_ticket; removed from quarantine"]
    assert stack.ingest.quarantine.list() == []
    assert await stack.indexed("<big@example.com>") == 1
