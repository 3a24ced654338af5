"""Acceptance of issue 14 over real SMTP and a real broker: with our mail server's
authserv-id set, a forged requester's reply is suspended and the ticket unchanged; a
genuine one comments; a release has its effect once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contracts.common import Role
from services.email_ingest.application.suspension import AlreadyHandled, release
from services.settings import Settings
from services.ticket_service.adapters.http.auth import mint_token
from tests.integration.email.conftest import SUPPORT, EmailStack
from tests.unit.email.fakes import mail

OURS = "mx.helpdesk.localhost"
ANN = "ann@example.com"


def verdict(result: str) -> dict[str, str]:
    return {"Authentication-Results": f"{OURS}; dmarc={result} header.from=example.com"}


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path, kafka_topic_prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        data_dir=tmp_path,
        topic_events=f"{kafka_topic_prefix}events",
        topic_commands=f"{kafka_topic_prefix}commands",
        topic_dead_letter=f"{kafka_topic_prefix}dead-letter",
        smtp_port=0,
        support_address=SUPPORT,
        email_authserv_id=OURS,
        email_admin_port=0,
    )


async def test_forged_reply_is_suspended_genuine_comments_release_once(
    stack: EmailStack,
) -> None:
    code, reply = await stack.send(
        mail(sender=ANN, message_id="<a-1@example.com>", headers=verdict("fail"))
    )
    assert code == 250, reply
    number = await stack.indexed("<a-1@example.com>")
    created = await stack.ticket(number)
    assert created.custom_fields["channel_details"]["authenticity"] == "unverified"

    forged = [
        mail(sender=ANN, subject=f"Re: [#{number}]", body="forged tag", headers=verdict("fail")),
        mail(sender=ANN, in_reply_to="<a-1@example.com>", body="forged header"),
        mail(sender="ann@example.com <mallory@evil.example>", subject=f"[#{number}]"),
    ]
    for raw in forged:
        code, reply = await stack.send(raw)
        assert (code, "suspended" in reply) == (250, True), reply
    code, reply = await stack.send(
        mail(sender="x@example.com", subject="plus", body="forged plus", headers=verdict("none")),
        rcpt=f"support+{number}@helpdesk.localhost",
    )
    assert code == 250, reply  # not a participant: a new ticket, #1 untouched
    code, reply = await stack.send(
        mail(sender=ANN, subject=f"Re: [#{number}]", body="genuine", headers=verdict("pass"))
    )
    assert "add_comment" in reply
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) >= 1)
    assert [c["body"] for c in ticket.comments] == ["genuine"]
    suspended = stack.ingest.suspended.list()
    assert len(suspended) == 3

    [tagged] = [s for s in suspended if s.reason == "unauthenticated" and "fail" in s.detail]
    await release(stack.ingest.service, stack.ingest.suspended, tagged.id, by="admin")
    with pytest.raises(AlreadyHandled):
        await release(stack.ingest.service, stack.ingest.suspended, tagged.id, by="admin")
    await stack.send(
        mail(sender=ANN, subject=f"Re: [#{number}]", body="barrier", headers=verdict("pass"))
    )
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) >= 3)
    assert [c["body"] for c in ticket.comments] == ["genuine", "forged tag", "barrier"]
    assert len(stack.ingest.suspended.list()) == 2


async def test_admin_api_is_served_by_the_ingest(stack: EmailStack) -> None:
    code, reply = await stack.send(
        mail(sender=ANN, message_id="<b-1@example.com>", headers=verdict("pass"))
    )
    assert code == 250, reply
    number = await stack.indexed("<b-1@example.com>")
    code, reply = await stack.send(
        mail(sender=ANN, subject=f"[#{number}]", body="held", headers=verdict("fail"))
    )
    assert (code, "suspended" in reply) == (250, True), reply
    assert stack.ingest.admin is not None
    base = f"http://127.0.0.1:{stack.ingest.admin.port}/api/v1/email/suspended"
    secret = stack.settings.jwt_secret
    admin = {"Authorization": f"Bearer {mint_token(secret, role=Role.ADMIN, email='a@x.test')}"}
    agent = {"Authorization": f"Bearer {mint_token(secret, role=Role.AGENT, email='b@x.test')}"}
    async with httpx.AsyncClient() as client:
        assert (await client.get(base, headers=agent)).status_code == 403
        [entry] = (await client.get(base, headers=admin)).json()
        released = await client.post(f"{base}/{entry['id']}/release", headers=admin)
        assert released.status_code == 200, released.text
        again = await client.post(f"{base}/{entry['id']}/release", headers=admin)
        assert again.status_code == 409
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) >= 1)
    assert [c["body"] for c in ticket.comments] == ["held"]


async def test_cli_release_processes_once(stack: EmailStack) -> None:
    from services.email_ingest.entrypoints.main import release_suspended

    code, reply = await stack.send(
        mail(sender=ANN, message_id="<c-1@example.com>", headers=verdict("pass"))
    )
    assert code == 250, reply
    number = await stack.indexed("<c-1@example.com>")
    code, reply = await stack.send(
        mail(sender=ANN, subject=f"[#{number}]", body="via cli", headers=verdict("fail"))
    )
    assert "suspended" in reply
    [entry] = stack.ingest.suspended.list()
    lines: list[str] = []
    failed = await release_suspended(stack.settings, [entry.id], by="cli", echo=lines.append)
    assert failed == 0
    assert lines == [f"{entry.id}: released: add_comment ticket #{number}"]
    failed = await release_suspended(stack.settings, [entry.id], by="cli", echo=lines.append)
    assert (failed, lines[-1]) == (0, f"{entry.id}: already released by cli; nothing done")
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) >= 1)
    assert [c["body"] for c in ticket.comments] == ["via cli"]
