"""Pure rules of outbound mail: recipients, suppression, Message-IDs, threading headers."""

from __future__ import annotations

from typing import Any

from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.thread_match import notification_number
from services.outbound_mail.domain.notifications import Kind, RateLimit, message_id, plan

SUPPORT = "support@example.com"


def created(**data: Any) -> dict[str, Any]:
    base = {
        "number": 7,
        "subject": "Printer",
        "requester": "Ann@x.org",
        "cc": ["bob@x.org", "support+7@example.com"],
        "status": "new",
        "created_by": {"role": "requester", "email": "ann@x.org"},
    }
    base.update(data)
    return {"event_type": "TicketCreated", "event_id": "e1", "ticket_number": 7, "data": base}


def comment(public: bool, role: str = "agent", email: str = "agent@example.com") -> dict[str, Any]:
    return {
        "event_type": "CommentAdded",
        "event_id": "e2",
        "ticket_number": 7,
        "data": {"public": public, "body": "Try again", "author": {"role": role, "email": email}},
    }


def test_acknowledgement_goes_to_the_requester_who_wrote_and_ccs_not_support() -> None:
    _, mails = plan(None, created(), support=SUPPORT)
    assert [(m.kind, m.recipient) for m in mails] == [
        (Kind.ACKNOWLEDGEMENT, "ann@x.org"),
        (Kind.ACKNOWLEDGEMENT, "bob@x.org"),
    ]
    assert "[#7]" in mails[0].subject


def test_a_cc_who_acted_gets_no_receipt() -> None:
    event = created(created_by={"role": "requester", "email": "bob@x.org"})
    _, mails = plan(None, event, support=SUPPORT)
    assert [m.recipient for m in mails] == ["ann@x.org"]


def test_agent_created_ticket_acknowledges_the_requester() -> None:
    event = created(created_by={"role": "agent", "email": "agent@example.com"})
    _, mails = plan(None, event, support=SUPPORT)
    assert [m.recipient for m in mails] == ["ann@x.org", "bob@x.org"]


def test_public_comment_mails_requester_and_ccs_but_not_the_agent() -> None:
    state, _ = plan(None, created(cc=["agent@example.com", "bob@x.org"]), support=SUPPORT)
    _, mails = plan(state, comment(True), support=SUPPORT)
    assert [m.recipient for m in mails] == ["ann@x.org", "bob@x.org"]
    assert mails[0].context["body"] == "Try again"


def test_internal_note_and_requester_comment_send_nothing() -> None:
    state, _ = plan(None, created(), support=SUPPORT)
    assert plan(state, comment(False), support=SUPPORT)[1] == []
    assert plan(state, comment(True, role="requester", email="ann@x.org"), support=SUPPORT)[1] == []


def test_suppressed_addresses_and_disabled_kinds_get_nothing() -> None:
    state, mails = plan(None, created(), support=SUPPORT, suppressed={"BOB@x.org"})
    assert [m.recipient for m in mails] == ["ann@x.org"]
    _, mails = plan(state, comment(True), support=SUPPORT, enabled={Kind.SOLVED})
    assert mails == []


def test_follow_up_names_the_original() -> None:
    event = created(number=9, follow_up_of={"number": 7, "id": "x"})
    event["event_type"] = "FollowUpCreated"
    _, mails = plan(None, event, support=SUPPORT)
    assert mails[0].kind is Kind.FOLLOW_UP and mails[0].context["original_number"] == 7
    assert mails[0].context["by_requester"] is True


def test_message_id_is_deterministic_and_maps_back_to_the_ticket() -> None:
    mid = message_id("e1", "Bob@x.org", 7, SUPPORT)
    assert mid == message_id("e1", "bob@x.org", 7, SUPPORT)
    assert mid != message_id("e1", "ann@x.org", 7, SUPPORT)
    assert notification_number(mid, SupportAddress(SUPPORT)) == 7


def test_later_mails_thread_to_earlier_ones_and_carry_loop_headers() -> None:
    state, first = plan(None, created(), support=SUPPORT)
    _, second = plan(state, comment(True), support=SUPPORT)
    headers = second[-1].headers
    assert headers["In-Reply-To"] == first[-1].message_id
    assert first[0].message_id in headers["References"]
    assert headers["Reply-To"] == "support+7@example.com"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["X-Auto-Response-Suppress"] == "All"


def test_rate_limit_per_recipient() -> None:
    limit = RateLimit(2, 60.0)
    assert [limit.allow("a", t) for t in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b", 2)
    assert limit.allow("a", 61)


def test_the_acknowledgement_threads_under_the_mail_that_opened_the_ticket() -> None:
    event = created(original={"message_id": "<m1@x.org>", "size": 1, "sha256": "0" * 64})
    _, mails = plan(None, event, support=SUPPORT)
    assert mails[0].headers["In-Reply-To"] == "<m1@x.org>"


def test_references_keep_the_root_and_the_latest_ids() -> None:
    state, _ = plan(None, created(original={"message_id": "<root@x.org>"}), support=SUPPORT)
    for n in range(30):
        event = comment(True)
        event["event_id"] = f"c{n}"
        state, mails = plan(state, event, support=SUPPORT)
    assert state is not None and len(state.message_ids) == 20
    assert state.message_ids[0] == "<root@x.org>"
    assert mails[-1].message_id == state.message_ids[-1]


def test_retry_delays_double_up_to_the_cap() -> None:
    from services.outbound_mail.domain.retry import retry_delay

    def top(low: float, high: float) -> float:
        return high

    assert [retry_delay(n, cap=1.0, uniform=top) for n in (1, 2, 3, 4, 5)] == [
        0.2,
        0.4,
        0.8,
        1.0,
        1.0,
    ]
    assert 0.05 <= retry_delay(1, base=0.1) <= 0.1
