"""Routing decisions of design §6 against a local index (no broker)."""

import pytest

from contracts.common import Status
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.message import parse_email
from services.email_ingest.domain.routing import Drop, FollowUp, NewTicket, Quarantine, Reply, route
from services.email_ingest.domain.thread_match import Unresolved
from tests.unit.email.fakes import SUPPORT, add_ticket, mail

support = SupportAddress(SUPPORT)


@pytest.fixture
def index() -> SqliteTicketIndex:
    index = SqliteTicketIndex()
    add_ticket(index, 1, message_id="<first@example.com>", cc=("carol@example.com",))
    add_ticket(index, 2, status=Status.SOLVED, message_id="<second@example.com>")
    add_ticket(index, 3, status=Status.CLOSED, message_id="<third@example.com>")
    add_ticket(index, 4, requester="bob@example.com")
    return index


def test_no_match_is_a_new_ticket(index: SqliteTicketIndex) -> None:
    decision = route(parse_email(mail(body="help")), index, support)
    assert decision == NewTicket("help")


def test_reply_by_in_reply_to(index: SqliteTicketIndex) -> None:
    decision = route(parse_email(mail(in_reply_to="<first@example.com>")), index, support)
    assert isinstance(decision, Reply)
    assert (decision.match.ticket.number, decision.match.by) == (1, "in_reply_to")


def test_reply_by_references_newest_known_first(index: SqliteTicketIndex) -> None:
    raw = mail(references="<first@example.com> <second@example.com> <unknown@example.com>")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply)
    assert (decision.match.ticket.number, decision.match.by) == (2, "references")


def test_headers_win_over_subject_tag_and_plus_address(index: SqliteTicketIndex) -> None:
    raw = mail(
        in_reply_to="<first@example.com>",
        subject="Re: [#2] thing",
        to="support+2@helpdesk.localhost",
    )
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply) and decision.match.ticket.number == 1


def test_subject_tag_wins_over_plus_address(index: SqliteTicketIndex) -> None:
    raw = mail(subject="Re: [#2] thing", to="support+1@helpdesk.localhost")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply)
    assert (decision.match.ticket.number, decision.match.by) == (2, "subject_tag")


def test_plus_address(index: SqliteTicketIndex) -> None:
    raw = mail(subject="no tag", to="Support <support+1@helpdesk.localhost>")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply)
    assert (decision.match.ticket.number, decision.match.by) == (1, "plus_address")
    # from the SMTP envelope too
    decision = route(parse_email(mail()), index, support, ["support+1@helpdesk.localhost"])
    assert isinstance(decision, Reply) and decision.match.ticket.number == 1


def test_unknown_tag_or_plus_number_falls_through_to_new_ticket(index: SqliteTicketIndex) -> None:
    raw = mail(subject="[#999]", to="support+998@helpdesk.localhost")
    assert isinstance(route(parse_email(raw), index, support), NewTicket)


def test_notification_message_id_convention(index: SqliteTicketIndex) -> None:
    raw = mail(in_reply_to="<ticket-4.abc@helpdesk.localhost>", sender="bob@example.com")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply)
    assert (decision.match.ticket.number, decision.match.by) == (4, "notification_id")


def test_cc_may_reply(index: SqliteTicketIndex) -> None:
    raw = mail(sender="Carol <CAROL@example.com>", in_reply_to="<first@example.com>")
    assert isinstance(route(parse_email(raw), index, support), Reply)


def test_stranger_on_matched_ticket_makes_a_new_ticket(index: SqliteTicketIndex) -> None:
    raw = mail(sender="mallory@example.com", in_reply_to="<first@example.com>")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, NewTicket)
    assert decision.matched is not None and decision.matched.ticket.number == 1


def test_reply_on_closed_ticket_is_a_follow_up_with_new_text_only(
    index: SqliteTicketIndex,
) -> None:
    body = "It broke again.\n\nOn Mon, 2 Mar 2026, Support wrote:\n> fixed now"
    decision = route(
        parse_email(mail(in_reply_to="<third@example.com>", body=body)), index, support
    )
    assert isinstance(decision, FollowUp)
    assert decision.match.ticket.number == 3
    assert decision.body == "It broke again."


def test_reply_on_solved_ticket_is_a_reply(index: SqliteTicketIndex) -> None:
    decision = route(parse_email(mail(in_reply_to="<second@example.com>")), index, support)
    assert isinstance(decision, Reply) and decision.match.ticket.status == Status.SOLVED


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated; type=vacation"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("Precedence", "list"),
        ("Precedence", "auto_reply"),
        ("X-Autoreply", "yes"),
        ("X-Auto-Response-Suppress", "OOF"),
        ("X-Loop", "support@helpdesk.localhost"),
    ],
)
def test_automated_mail_is_dropped(index: SqliteTicketIndex, header: str, value: str) -> None:
    raw = mail(in_reply_to="<first@example.com>", headers={header: value})
    assert isinstance(route(parse_email(raw), index, support), Drop)


def test_auto_submitted_no_is_a_person(index: SqliteTicketIndex) -> None:
    raw = mail(headers={"Auto-Submitted": "no"})
    assert isinstance(route(parse_email(raw), index, support), NewTicket)


def test_own_address_is_dropped(index: SqliteTicketIndex) -> None:
    for sender in (SUPPORT, "support+3@helpdesk.localhost"):
        assert route(parse_email(mail(sender=sender)), index, support) == Drop("own_address")


def test_missing_sender_is_quarantined(index: SqliteTicketIndex) -> None:
    raw = b"To: support@helpdesk.localhost\r\nSubject: x\r\n\r\nbody"
    assert isinstance(route(parse_email(raw), index, support), Quarantine)


def test_parent_handed_on_but_not_yet_indexed_is_unresolved(index: SqliteTicketIndex) -> None:
    index.record_handed_on("<pending@example.com>", "cmd", "create_ticket")
    raw = mail(in_reply_to="<pending@example.com>", references="<first@example.com>")
    assert route(parse_email(raw), index, support) == Unresolved("<pending@example.com>")


def test_our_notification_of_a_ticket_newer_than_the_index_is_unresolved(
    index: SqliteTicketIndex,
) -> None:
    """The index lags the events: a reply to the acknowledgement of ticket 5 waits for it."""
    raw = mail(in_reply_to="<ticket-5.abc@helpdesk.localhost>", sender="bob@example.com")
    assert route(parse_email(raw), index, support) == Unresolved(
        "<ticket-5.abc@helpdesk.localhost>"
    )
    add_ticket(index, 5, requester="bob@example.com")
    decision = route(parse_email(raw), index, support)
    assert isinstance(decision, Reply) and decision.match.ticket.number == 5
