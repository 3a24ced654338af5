"""The local index learns tickets and Message-IDs from event envelopes."""

from uuid import uuid4

from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from tests.unit.email.fakes import add_ticket


def _event(kind: str, number: int, version: int, data: dict, mid: str | None = None) -> dict:
    return {
        "event_type": kind,
        "ticket_id": str(uuid4()),
        "ticket_number": number,
        "version": version,
        "correlation_id": f"email:{mid}" if mid else "something-else",
        "data": data,
    }


def test_status_cc_and_messages_follow_the_events() -> None:
    index = SqliteTicketIndex()
    add_ticket(index, 7, message_id="<m1@example.com>")
    index.apply(_event("TicketUpdated", 7, 2, {"changes": {"cc": ["X@example.com"]}}))
    index.apply(_event("CommentAdded", 7, 3, {}, mid="<m2@example.com>"))
    index.apply(_event("StatusChanged", 7, 4, {"to_status": "solved"}))
    index.apply(_event("StatusChanged", 7, 2, {"to_status": "pending"}))  # stale redelivery
    ticket = index.ticket_for_message("<m2@example.com>")
    assert ticket is not None
    assert (ticket.number, ticket.status, ticket.cc) == (7, "solved", ("x@example.com",))
    assert index.ticket_for_message("<m1@example.com>") == ticket
    index.apply(_event("TicketClosed", 7, 5, {}))
    assert index.ticket(7).is_closed  # type: ignore[union-attr]


def test_follow_up_source_key_maps_the_message_to_the_follow_up() -> None:
    index = SqliteTicketIndex()
    data = {
        "number": 9,
        "requester": "a@example.com",
        "cc": [],
        "status": "new",
        "source_key": "<reply@example.com>",
    }
    index.apply(_event("FollowUpCreated", 9, 1, data))
    assert index.ticket_for_message("<reply@example.com>").number == 9  # type: ignore[union-attr]


def test_pending_until_learned_or_rejected() -> None:
    index = SqliteTicketIndex()
    index.record_handed_on("<a@example.com>", "c1", "create_ticket")
    index.record_handed_on("<b@example.com>", "c2", "create_ticket")
    assert index.is_pending("<a@example.com>") and index.is_pending("<b@example.com>")
    add_ticket(index, 1, message_id="<a@example.com>")
    index.apply(
        {
            "event_type": "CommandRejected",
            "ticket_id": str(uuid4()),
            "ticket_number": None,
            "version": 1,
            "correlation_id": "email:<b@example.com>",
            "data": {"error": "invalid_request"},
        }
    )
    assert not index.is_pending("<a@example.com>")
    assert not index.is_pending("<b@example.com>")
    assert index.rejection("<b@example.com>") == "invalid_request"


def test_positions_are_saved_with_the_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "index.sqlite3"
    index = SqliteTicketIndex(path)
    index.apply_batch("events", [], {0: 42})
    index.close()
    assert SqliteTicketIndex(path).positions("events") == {0: 42}
