"""Issue #20 acceptance over real SMTP (smtplib) and a real broker: the comment a reply
makes is the visible reply of the corpus mails in the shapes of the common clients."""

from __future__ import annotations

import hashlib
import os
from email import message_from_bytes, policy
from email.message import EmailMessage

from fastapi.testclient import TestClient

from services.ticket_service.adapters.http import schemas
from services.ticket_service.bootstrap import build_application, create_app
from tests.integration.email.conftest import EmailStack
from tests.integration.email.test_email_flow import _new_ticket
from tests.unit.email.fakes import mail
from tests.unit.email.test_reply_corpus import CASES, normalise
from tests.unit.http.api_client import SECRET, Api

ACCEPTANCE = [
    "gmail_bottom_posted",
    "interleaved_answers",
    "iphone_top_posted",
    "outlook_original_message",
    "gmail_top_posted",
    "would_be_emptied_quote_only",
]


async def test_replies_of_every_shape_become_their_visible_text(stack: EmailStack) -> None:
    cases = {c.name: c for c in CASES}
    number = await _new_ticket(stack, "<fidelity-1@example.com>")
    for name in ACCEPTANCE:
        await stack.send(mail(in_reply_to="<fidelity-1@example.com>", body=cases[name].body))
    ticket = await stack.ticket_when(number, lambda t: len(t.comments) == len(ACCEPTANCE))
    by_body = [normalise(c["body"]) for c in ticket.comments]
    assert by_body == [normalise(cases[name].visible) for name in ACCEPTANCE]
    bottom = ticket.comments[0]["body"]
    assert bottom.startswith("Hi,") and "It happens on every login" in bottom
    assert "Sent from my iPhone" not in ticket.comments[2]["body"]
    # the quoted history is collapsed apart, not dropped
    shown = [schemas.Comment.model_validate(c) for c in ticket.comments]
    assert [bool(c.quoted_text) for c in shown] == [cases[n].quoted for n in ACCEPTANCE]
    assert shown[3].quoted_text.startswith("-----Original Message-----")
    assert "Please install the update." in shown[3].quoted_text


async def test_original_and_attachment_download_byte_for_byte_after_smtp(
    stack: EmailStack,
) -> None:
    """Issue #20 item 1 over SMTP: what the sending server delivered is what an agent
    downloads, also from a new application on the same data directory (a restart)."""
    number = await _new_ticket(stack, "<fidelity-2@example.com>")
    msg = message_from_bytes(
        mail(in_reply_to="<fidelity-2@example.com>", body="Log attached.\n"),
        policy=policy.SMTP,
    )
    assert isinstance(msg, EmailMessage)
    content = os.urandom(50_000)
    msg.add_attachment(content, maintype="application", subtype="zip", filename="logs.zip")
    raw = msg.as_bytes(policy=policy.SMTP)  # CRLF, as it travels over SMTP
    code, reply = await stack.send(raw)
    assert code == 250, reply
    ticket = await stack.ticket_when(number, lambda t: bool(t.comments))
    comment = ticket.comments[0]
    assert comment["original"]["sha256"] == hashlib.sha256(raw).hexdigest()
    settings = stack.settings.model_copy(update={"jwt_secret": SECRET})
    for application in (stack.app, build_application(settings)):
        with TestClient(create_app(settings, application)) as client:
            api = Api(client, settings)
            base = f"/api/v1/tickets/{number}/comments/{comment['id']}"
            original = client.get(f"{base}/original", headers=api.headers("agent"))
            assert (original.status_code, original.content) == (200, raw)
            attached = client.get(f"{base}/attachments/1", headers=api.headers("integration"))
            assert (attached.status_code, attached.content) == (200, content)
            other = client.get(
                f"/helpcenter/v1/requests/{number}/comments/{comment['id']}/attachments/1",
                headers=api.headers("requester", email="bob@example.org"),
            )
            assert other.status_code == 404


def _with_zip(raw: bytes) -> tuple[bytes, bytes]:
    msg = message_from_bytes(raw, policy=policy.SMTP)
    assert isinstance(msg, EmailMessage)
    content = os.urandom(30_000)
    msg.add_attachment(content, maintype="application", subtype="zip", filename="logs.zip")
    return msg.as_bytes(policy=policy.SMTP), content  # CRLF, as it travels over SMTP


async def test_the_mail_opening_a_ticket_or_a_follow_up_downloads_byte_for_byte(
    stack: EmailStack,
) -> None:
    """Every inbound mail is kept whole, not only replies: the one that creates a ticket
    and the one that becomes a follow-up of a closed ticket, served by ``/{number}/original``
    to agents and integrations (also after a restart); a requester of another ticket 404."""
    opening, first_zip = _with_zip(
        mail(message_id="<fidelity-new@example.com>", body="See logs.\n")
    )
    code, reply = await stack.send(opening)
    assert code == 250, reply
    number = await stack.indexed("<fidelity-new@example.com>")
    stack.close_by_integration(number)
    await stack.indexed_status(number, "closed")
    again, second_zip = _with_zip(
        mail(
            in_reply_to="<fidelity-new@example.com>",
            message_id="<fidelity-again@example.com>",
            body="It is back.\n",
        )
    )
    code, reply = await stack.send(again)
    assert (code, "follow_up_requested" in reply) == (250, True), reply
    follow_up = await stack.ticket(number + 1)
    assert follow_up.follow_up_of is not None and follow_up.follow_up_of["number"] == number
    expected = {number: opening, number + 1: again}
    zips = {number: first_zip, number + 1: second_zip}
    for n, raw in expected.items():
        original = stack.app.get_ticket(n).original
        assert original is not None
        assert (original["sha256"], original["size"]) == (hashlib.sha256(raw).hexdigest(), len(raw))
    settings = stack.settings.model_copy(update={"jwt_secret": SECRET})
    for application in (stack.app, build_application(settings)):
        with TestClient(create_app(settings, application)) as client:
            api = Api(client, settings)
            for n, raw in expected.items():
                for role in ("agent", "integration"):
                    got = client.get(f"/api/v1/tickets/{n}/original", headers=api.headers(role))
                    assert (got.status_code, got.content) == (200, raw)
                    got = client.get(
                        f"/api/v1/tickets/{n}/attachments/1", headers=api.headers(role)
                    )
                    assert (got.status_code, got.content) == (200, zips[n])
                own = client.get(
                    f"/helpcenter/v1/requests/{n}/attachments/1",
                    headers=api.headers("requester", email="alice@example.com"),
                )
                assert (own.status_code, own.content) == (200, zips[n])
                other = client.get(
                    f"/helpcenter/v1/requests/{n}",
                    headers=api.headers("requester", email="bob@example.org"),
                )
                assert other.status_code == 404
                denied = client.get(
                    f"/api/v1/tickets/{n}/original",
                    headers=api.headers("requester", email="bob@example.org"),
                )
                assert denied.status_code == 403
