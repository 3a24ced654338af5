"""The local index is rebuilt from the events topic: from scratch, and when its stored
position lies beyond the log (a broker that lost its data and was republished)."""

from __future__ import annotations

from pathlib import Path

from services.email_ingest.adapters.event_index_feed import EventIndexFeed
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from tests.integration.email.conftest import EmailStack
from tests.unit.email.fakes import mail


async def test_index_rebuilds_from_the_events_topic(stack: EmailStack, tmp_path: Path) -> None:
    await stack.send(mail(message_id="<feed-1@example.com>", cc="carol@example.com"))
    number = await stack.indexed("<feed-1@example.com>")
    stack.set_status(number, "pending")
    await stack.indexed_status(number, "pending")

    for stored in ({}, {0: 1_000_000}):
        index = SqliteTicketIndex(tmp_path / f"index-{len(stored)}.sqlite3")
        index.apply_batch(stack.settings.topic_events, [], stored)
        feed = EventIndexFeed(index, stack.settings)
        await feed.start()
        try:
            await feed.catch_up()
        finally:
            await feed.stop()
        ticket = index.ticket_for_message("<feed-1@example.com>")
        assert ticket is not None
        assert (ticket.number, ticket.status, ticket.cc) == (
            number,
            "pending",
            ("carol@example.com",),
        )
        assert index.positions(stack.settings.topic_events)[0] < 1_000_000
        index.close()
