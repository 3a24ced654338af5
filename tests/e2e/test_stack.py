"""The whole story on the ``make run`` stack, through HTTP, SMTP and Kafka only: create by API
and by email → solve → auto-close → email reply → follow-up linked, original unchanged; the
event stream tells the story in order; a restart loses nothing; a second ticket-service
process and a second closer worker share the work without double effects."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.local_stack.processes import free_port
from tests.e2e.stack import Stack, eventually, mail, read_events


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "var").start()
    try:
        yield running
    except BaseException:
        print(running.tail(200))
        raise
    finally:
        running.stop()


def ticket(stack: Stack, number: int, role: str = "integration") -> dict[str, Any]:
    with stack.http(role) as client:
        response = client.get(f"/api/v1/tickets/{number}")
        response.raise_for_status()
        return dict(response.json())


def find_by_subject(stack: Stack, subject: str) -> dict[str, Any] | None:
    with stack.http("agent") as client:
        rows = client.get("/api/v1/views/all", params={"limit": 200}).json()["tickets"]
    return next((row for row in rows if row["subject"] == subject), None)


def history(stack: Stack, number: int) -> list[dict[str, Any]]:
    with stack.http("agent") as client:
        body = client.get(f"/api/v1/tickets/{number}/events").json()
    return list(body["events"] if isinstance(body, dict) else body)


def solve(stack: Stack, number: int, port: int | None = None) -> None:
    with stack.http("agent", port) as client:
        client.patch(f"/api/v1/tickets/{number}", json={"status": "solved"}).raise_for_status()


def outbox(stack: Stack) -> set[tuple[str, str]]:
    from services.outbound_mail.adapters.maildir_outbox import MaildirOutbox

    entries = MaildirOutbox(stack.data_dir / "outbox").entries()
    return {(e.recipient, " ".join(e.subject.split())) for e in entries}


def outbox_entries(stack: Stack) -> int:
    from services.outbound_mail.adapters.maildir_outbox import MaildirOutbox

    return len(MaildirOutbox(stack.data_dir / "outbox").entries())


def wait_closed(stack: Stack, number: int, timeout: float) -> None:
    eventually(lambda: ticket(stack, number)["status"] == "closed", f"#{number} closed", timeout)


def test_the_whole_story(stack: Stack) -> None:
    with stack.http("agent") as client:
        created = client.post(
            "/api/v1/tickets",
            json={"subject": "VPN down", "requester": "ann@example.com", "description": "help"},
        )
    assert created.status_code == 201, created.text
    by_api = created.json()["number"]

    first_mail = mail("bob@example.com", "Printer jammed", "The printer on floor 2 is jammed.")
    stack.send_mail(first_mail)
    by_email = eventually(lambda: find_by_subject(stack, "Printer jammed"), "email ticket")
    email_ticket = ticket(stack, by_email["number"])
    assert (email_ticket["channel"], email_ticket["requester"]) == ("email", "bob@example.com")

    for number in (by_api, email_ticket["number"]):
        solve(stack, number)
    for number in (by_api, email_ticket["number"]):
        wait_closed(stack, number, 60)

    original = email_ticket["number"]
    before = history(stack, original)
    reply = mail(
        "bob@example.com",
        f"Re: [#{original}] Printer jammed",
        "It is jammed again.\n\n> The printer on floor 2 is jammed.",
        in_reply_to=first_mail["Message-ID"],
    )
    stack.send_mail(reply)
    follow_ups = eventually(
        lambda: ticket(stack, original)["follow_ups"], "follow-up of the closed ticket"
    )
    assert len(follow_ups) == 1
    follow_up = ticket(stack, follow_ups[0])
    assert follow_up["follow_up_of"]["number"] == original
    assert follow_up["subject"] == f"Follow-up to #{original}: Printer jammed"
    assert "It is jammed again." in follow_up["description"]
    assert "floor 2 is jammed" not in follow_up["description"]
    assert history(stack, original) == before
    assert ticket(stack, original)["status"] == "closed"

    events = asyncio.run(read_events(stack.info["kafka_bootstrap"]))
    story = [
        (e["event_type"], e["data"].get("to_status"))
        for e in events
        if e["ticket_number"] == original
    ]
    versions = [e["version"] for e in events if e["ticket_number"] == original]
    assert versions == list(range(1, len(versions) + 1)), "per-ticket order on the topic"
    assert story[0] == ("TicketCreated", None)
    assert ("StatusChanged", "solved") in story
    assert story[-1] == ("TicketClosed", None)
    assert any(
        e["event_type"] == "FollowUpCreated" and e["ticket_number"] == follow_up["number"]
        for e in events
    )

    # Outbound mail wrote the notifications to the outbox (no relay under make run).
    new = follow_up["number"]
    expected = {
        ("ann@example.com", f"[#{by_api}] We received your request: VPN down"),
        ("ann@example.com", f"[#{by_api}] Solved: VPN down"),
        ("bob@example.com", f"[#{original}] We received your request: Printer jammed"),
        ("bob@example.com", f"[#{original}] Solved: Printer jammed"),
        ("bob@example.com", f"[#{new}] Follow-up to #{original}: Printer jammed"),
    }
    eventually(lambda: expected <= outbox(stack), "the notifications in the outbox")
    sent = outbox_entries(stack)

    stack.stop()
    stack.start()
    assert ticket(stack, original)["status"] == "closed"
    assert ticket(stack, follow_up["number"])["follow_up_of"]["number"] == original
    assert history(stack, original) == before
    replayed = asyncio.run(read_events(stack.info["kafka_bootstrap"]))
    assert {e["event_id"] for e in events} <= {e["event_id"] for e in replayed}
    # The history republished to the new broker sends nothing twice.
    barrier = mail("zed@example.com", "After the restart", "Hello.")
    stack.send_mail(barrier)
    eventually(
        lambda: any(recipient == "zed@example.com" for recipient, _ in outbox(stack)),
        "the acknowledgement after the restart",
    )
    assert outbox_entries(stack) == sent + 1


def test_second_ticket_service_and_closer_share_the_work(stack: Stack) -> None:
    second_port = free_port()
    stack.spawn(["-m", "services.cli", "tickets-http"], HELPDESK_HTTP_PORT=str(second_port))
    stack.spawn(["-m", "services.cli", "tickets-worker", "--no-relay"])  # one relay per store
    stack.spawn(["-m", "services.cli", "closer", "run"])
    eventually(
        lambda: stack.http(port=second_port).get("/readyz").status_code == 200, "second HTTP"
    )
    numbers = []
    for i in range(30):
        port = second_port if i % 2 else None
        with stack.http("agent", port) as client:
            response = client.post(
                "/api/v1/tickets",
                json={"subject": f"Shared {i}", "requester": "ann@example.com", "status": "open"},
            )
            assert response.status_code == 201, response.text
            numbers.append(response.json()["number"])
    assert len(set(numbers)) == 30
    for i, number in enumerate(numbers):
        solve(stack, number, second_port if i % 2 else None)
    for number in numbers:
        wait_closed(stack, number, 90)

    def all_closes_published() -> list[dict[str, Any]] | None:
        events = asyncio.run(read_events(stack.info["kafka_bootstrap"]))
        closes = [e for e in events if e["event_type"] == "TicketClosed"]
        return events if {e["ticket_number"] for e in closes} >= set(numbers) else None

    events = eventually(all_closes_published, "every TicketClosed on the topic", 60)
    closes = Counter(
        e["ticket_id"]
        for e in {e["event_id"]: e for e in events}.values()
        if e["event_type"] == "TicketClosed"
    )
    assert set(closes.values()) == {1}, closes
    for number in numbers:
        kinds = [e["event_type"] for e in history(stack, number)]
        assert kinds.count("TicketClosed") == 1
