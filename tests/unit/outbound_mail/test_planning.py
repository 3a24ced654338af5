"""Events → intents in the sent log: deduplication, suppression, rate limit, old events,
rendering (real SQLite stores in memory, the shipped and overridden Jinja2 templates)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.mail_suppression import SuppressionList
from services.outbound_mail.adapters.sqlite_store import SqliteNotificationStore
from services.outbound_mail.adapters.templates import JinjaRenderer
from services.outbound_mail.application.planning import Planner, PlanningPolicy
from services.outbound_mail.domain.notifications import Kind

SUPPORT = "support@example.com"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def event(kind: str, event_id: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "event_type": kind,
        "event_id": event_id,
        "ticket_id": "t-1",
        "ticket_number": 7,
        "occurred_at": extra.get("occurred_at", NOW.isoformat()),
        "data": data,
    }


def created(event_id: str = "e1", cc: list[str] | None = None) -> dict[str, Any]:
    return event(
        "TicketCreated",
        event_id,
        {
            "number": 7,
            "subject": "Printer <on fire>",
            "requester": "ann@x.org",
            "cc": cc or [],
            "created_by": {"role": "requester", "email": "ann@x.org"},
        },
    )


def comment(event_id: str, body: str = "Try <b>again</b>") -> dict[str, Any]:
    return event(
        "CommentAdded",
        event_id,
        {"public": True, "body": body, "author": {"role": "agent", "email": "agent@example.com"}},
    )


def planner(
    tmp_path: Path | None = None, *, rate_limit: int = 20, templates: Path | None = None
) -> tuple[Planner, SqliteNotificationStore, SuppressionList]:
    store = SqliteNotificationStore()
    suppression = SuppressionList(":memory:")
    policy = PlanningPolicy(support=SUPPORT, sender=SUPPORT, rate_limit=rate_limit)
    p = Planner(store, suppression, JinjaRenderer(templates), policy, clock=NOW.timestamp)
    return p, store, suppression


def test_an_event_redelivered_plans_nothing_twice() -> None:
    p, store, _ = planner()
    assert p.handle([created(cc=["bob@x.org"])]) == 2
    assert p.handle([created(cc=["bob@x.org"])]) == 0
    rows = store.entries()
    assert [(r["recipient"], r["status"], r["kind"]) for r in rows] == [
        ("ann@x.org", "pending", "acknowledgement"),
        ("bob@x.org", "pending", "acknowledgement"),
    ]


def test_the_rendered_mail_carries_both_parts_and_the_headers() -> None:
    p, store, _ = planner()
    p.handle([created(), comment("e2")])
    intent = store.pending_after(0, 10)[-1]
    message = email.message_from_bytes(intent.raw, policy=email.policy.default)
    assert message["Message-ID"] == intent.message_id
    assert message["Subject"] == "[#7] New reply: Printer <on fire>"
    assert message["Reply-To"] == "support+7@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] == store.pending_after(0, 10)[0].message_id
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Try <b>again</b>" in text
    assert "Try &lt;b&gt;again&lt;/b&gt;" in html


def test_suppressed_addresses_get_nothing() -> None:
    p, store, suppression = planner()
    suppression.add("Bob@x.org", "auto_submitted:auto-replied")
    p.handle([created(cc=["bob@x.org"])])
    assert [r["recipient"] for r in store.entries()] == ["ann@x.org"]


def test_the_rate_limit_records_what_it_holds_back() -> None:
    p, store, _ = planner(rate_limit=2)
    p.handle([created(), comment("e2"), comment("e3"), comment("e4")])
    assert [r["status"] for r in store.entries()] == [
        "pending",
        "pending",
        "rate_limited",
        "rate_limited",
    ]


def test_the_rate_limit_survives_a_restart() -> None:
    p, store, suppression = planner(rate_limit=2)
    p.handle([created(), comment("e2")])
    again = Planner(store, suppression, p.renderer, p.policy, clock=NOW.timestamp)
    again.handle([comment("e3")])
    assert store.entries()[-1]["status"] == "rate_limited"


def test_old_events_feed_the_projection_but_send_nothing() -> None:
    p, store, _ = planner()
    old = created()
    old["occurred_at"] = (NOW - timedelta(days=3)).isoformat()
    p.handle([old])
    assert store.entries() == []
    p.handle([comment("e2")])
    assert [r["recipient"] for r in store.entries()] == ["ann@x.org"]


def test_disabled_kinds_and_templates_from_the_override_directory(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.txt.j2").write_text("Got it: #{{ number }}\n")
    p, store, _ = planner(templates=tmp_path)
    p.policy.enabled = {Kind.ACKNOWLEDGEMENT}
    p.handle([created(), comment("e2")])
    (intent,) = store.pending_after(0, 10)
    message = email.message_from_bytes(intent.raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert text.strip() == "Got it: #7"
    assert "opened ticket <strong>#7</strong>" in html  # the shipped HTML part


def test_non_ascii_subjects_long_headers_and_bodies_survive_the_mime_writer() -> None:
    from services.outbound_mail.adapters.templates import mime_alternative

    references = " ".join(f"<ticket-7.{n:032d}@example.com>" for n in range(10))
    raw = mime_alternative(
        [
            ("Subject", "[#7] Drucker brennt \u2013 sofort Hilfe \u00fc\u00e4\u00f6\nBcc: x@y"),
            ("References", references),
        ],
        "Zeile eins \u00fc\n" + "lang " * 40 + "\n.\nEnde",
        "<p>\u00fc</p>",
    )
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert (
        message["Subject"] == "[#7] Drucker brennt \u2013 sofort Hilfe \u00fc\u00e4\u00f6 Bcc: x@y"
    )
    assert message["Bcc"] is None
    assert message["References"].split() == references.split()
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines() == ["Zeile eins \u00fc", ("lang " * 40), ".", "Ende"]
    assert html.strip() == "<p>\u00fc</p>"


def test_a_broken_override_template_fails_that_mail_not_the_batch(tmp_path: Path) -> None:
    (tmp_path / "public_comment.txt.j2").write_text("{{ no_such_variable }}\n")
    p, store, _ = planner(templates=tmp_path)
    p.handle([created(), comment("e2"), comment("e3")])
    rows = [(r["kind"], r["status"], r["reason"]) for r in store.entries()]
    assert rows[0] == ("acknowledgement", "pending", None)
    assert [(kind, status) for kind, status, _ in rows[1:]] == [("public_comment", "failed")] * 2
    assert "no_such_variable" in str(rows[1][2])
    assert store.processed("e3")
