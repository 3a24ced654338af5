"""The delivery loop and the sent log against a real aiosmtpd relay: 250, 5xx, 4xx, a relay
that refuses connections, a restart with intents pending, and the Maildir outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from services.cli import app as cli
from services.outbound_mail.bootstrap import OutboundMail, run_outbound_mail
from services.settings import Settings
from tests.fixtures.smtp_relay import SmtpRelay

SUPPORT = "support@helpdesk.localhost"
WAIT = 60.0


def settings_for(tmp_path: Path, relay: SmtpRelay | None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        support_address=SUPPORT,
        smtp_relay=relay.address if relay else None,
        smtp_retry_max_seconds=0.5,
    )


def created(n: int, requester: str, cc: list[str] | None = None) -> dict[str, Any]:
    return {
        "event_type": "TicketCreated",
        "event_id": f"created-{n}",
        "ticket_id": f"ticket-{n}",
        "ticket_number": n,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "number": n,
            "subject": f"Request {n}",
            "requester": requester,
            "cc": cc or [],
            "created_by": {"role": "agent", "email": "agent@example.com"},
        },
    }


async def until(probe: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def failed_count() -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("helpdesk_mail_notifications_total", {"outcome": "failed"})
    return value or 0.0


def statuses(mail: OutboundMail) -> dict[str, str]:
    return {r["recipient"]: r["status"] for r in mail.store.entries()}


async def test_each_mail_goes_out_once_and_is_marked_sent(tmp_path: Path, relay: SmtpRelay) -> None:
    async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
        mail.planner.handle([created(1, "ann@x.org", ["bob@x.org"])])
        await mail.until_idle()
        mail.planner.handle([created(1, "ann@x.org", ["bob@x.org"])])  # redelivered
        await mail.until_idle()
        assert statuses(mail) == {"ann@x.org": "sent", "bob@x.org": "sent"}
        logged = {r["recipient"]: r["message_id"] for r in mail.store.entries()}
    received = relay.all()
    assert sorted(r.recipient for r in received) == ["ann@x.org", "bob@x.org"]
    assert {r.recipient: r.message_id for r in received} == logged
    assert all("[#1]" in r.subject for r in received)


async def test_a_5xx_is_a_permanent_failure_with_its_reason(
    tmp_path: Path, relay: SmtpRelay
) -> None:
    relay.script.refuse["gone@x.org"] = "550 5.1.1 no such user"
    failed_before = failed_count()
    async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
        mail.planner.handle([created(1, "gone@x.org", ["bob@x.org"])])
        await mail.until_idle()
        rows = {r["recipient"]: r for r in mail.store.entries()}
    assert rows["gone@x.org"]["status"] == "failed"
    assert rows["gone@x.org"]["reason"] == "550 5.1.1 no such user"
    assert rows["bob@x.org"]["status"] == "sent"
    assert [r.recipient for r in relay.all()] == ["bob@x.org"]
    assert failed_count() == failed_before + 1


async def test_4xx_answers_are_retried_until_the_relay_takes_the_mail(
    tmp_path: Path, relay: SmtpRelay
) -> None:
    relay.script.temporary_failures = 3
    async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
        mail.planner.handle([created(1, "ann@x.org")])
        await mail.until_idle()
        assert statuses(mail) == {"ann@x.org": "sent"}
    assert [r.recipient for r in relay.all()] == ["ann@x.org"]
    assert relay.script.temporary_failures == 0


async def test_a_relay_refusing_connections_gets_every_mail_once_when_back(
    tmp_path: Path,
) -> None:
    relay = SmtpRelay()  # not listening yet: connections are refused
    try:
        async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
            mail.planner.handle([created(n, f"user{n}@x.org") for n in range(1, 21)])
            await until(
                lambda: len(mail.store.entries("pending")) == 20 and mail.delivery.sent == 0,
                "intents recorded",
            )
            await asyncio.sleep(1.0)  # a few failed attempts (no assertion rests on it)
            assert mail.delivery.sent == 0
            relay.start()
            await mail.until_idle()
            assert set(statuses(mail).values()) == {"sent"}
        received = relay.all()
        assert sorted(r.recipient for r in received) == sorted(
            f"user{n}@x.org" for n in range(1, 21)
        )
        assert len({r.message_id for r in received}) == 20
    finally:
        relay.stop()


async def test_intents_pending_at_a_stop_are_sent_after_a_restart_with_their_message_id(
    tmp_path: Path,
) -> None:
    relay = SmtpRelay()
    try:
        async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
            mail.planner.handle([created(1, "ann@x.org", ["bob@x.org"])])
            recorded = {r["recipient"]: r["message_id"] for r in mail.store.entries()}
        relay.start()
        async with run_outbound_mail(settings_for(tmp_path, relay), consume=False) as mail:
            await mail.until_idle()
            assert statuses(mail) == {"ann@x.org": "sent", "bob@x.org": "sent"}
        assert {r.recipient: r.message_id for r in relay.all()} == recorded
    finally:
        relay.stop()


async def test_without_a_relay_mail_goes_to_the_outbox_maildir(
    tmp_path: Path, monkeypatch: Any
) -> None:
    async with run_outbound_mail(settings_for(tmp_path, None), consume=False) as mail:
        mail.planner.handle([created(3, "ann@x.org")])
        await mail.until_idle()
        (row,) = mail.store.entries()
    assert row["status"] == "sent"
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    from services.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(cli, ["mail", "outbox", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ann@x.org" in listed.output and "[#3]" in listed.output
    shown = runner.invoke(cli, ["mail", "outbox", "show", row["message_id"]])
    assert shown.exit_code == 0, shown.output
    assert f"Message-ID: {row['message_id']}" in shown.output
    assert "opened ticket #3" in shown.output
    logged = runner.invoke(cli, ["mail", "log"])
    assert "sent" in logged.output and "ann@x.org" in logged.output
    from services.mail_suppression import suppression_for

    suppression = suppression_for(get_settings())
    suppression.add("Robot@x.org", "auto_submitted:auto-replied")
    suppression.close()
    listed = runner.invoke(cli, ["mail", "suppression", "list"])
    assert "robot@x.org" in listed.output and "auto_submitted:auto-replied" in listed.output
    assert runner.invoke(cli, ["mail", "suppression", "remove", "robot@x.org"]).exit_code == 0
    assert "robot@x.org" not in runner.invoke(cli, ["mail", "suppression", "list"]).output
    get_settings.cache_clear()


async def test_starttls_and_auth_on_the_relay(tmp_path: Path) -> None:
    from tests.fixtures.smtp_relay import self_signed_tls

    tls, ca = self_signed_tls(tmp_path)
    relay = SmtpRelay(tls=tls, credentials=("helpdesk", "s3cret")).start()
    try:
        settings = settings_for(tmp_path, relay).model_copy(
            update={
                "smtp_starttls": True,
                "smtp_tls_ca_file": ca,
                "smtp_username": "helpdesk",
                "smtp_password": "s3cret",
            }
        )
        async with run_outbound_mail(settings, consume=False) as mail:
            mail.planner.handle([created(1, "ann@x.org")])
            await mail.until_idle()
            assert statuses(mail) == {"ann@x.org": "sent"}
        assert [r.recipient for r in relay.all()] == ["ann@x.org"]
        assert relay.authenticated
    finally:
        relay.stop()


async def test_a_refused_auth_keeps_the_mail_pending_until_the_credentials_work(
    tmp_path: Path,
) -> None:
    from tests.fixtures.smtp_relay import self_signed_tls

    tls, ca = self_signed_tls(tmp_path)
    relay = SmtpRelay(tls=tls, credentials=("helpdesk", "right")).start()
    try:
        wrong = settings_for(tmp_path, relay).model_copy(
            update={
                "smtp_starttls": True,
                "smtp_tls_ca_file": ca,
                "smtp_username": "helpdesk",
                "smtp_password": "wrong",
            }
        )
        async with run_outbound_mail(wrong, consume=False) as mail:
            mail.planner.handle([created(1, "ann@x.org")])
            await until(lambda: mail.delivery.sent == 0 and not mail.delivery.idle, "an attempt")
            assert statuses(mail) == {"ann@x.org": "pending"}
        right = wrong.model_copy(update={"smtp_password": "right"})
        async with run_outbound_mail(right, consume=False) as mail:
            await mail.until_idle()
            assert statuses(mail) == {"ann@x.org": "sent"}
        assert [r.recipient for r in relay.all()] == ["ann@x.org"]
    finally:
        relay.stop()


async def test_a_mail_still_refused_with_4xx_after_the_give_up_time_is_failed(
    tmp_path: Path, relay: SmtpRelay
) -> None:
    from datetime import timedelta

    relay.script.temporary_failures = 10_000
    settings = settings_for(tmp_path, relay).model_copy(
        update={"smtp_give_up_after": timedelta(seconds=1)}
    )
    async with run_outbound_mail(settings, consume=False) as mail:
        mail.planner.handle([created(1, "ann@x.org")])
        await mail.until_idle()
        (row,) = mail.store.entries()
    assert row["status"] == "failed"
    assert row["reason"].startswith("gave up: 451")
    assert relay.all() == []
