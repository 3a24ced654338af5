"""Issue #20 acceptance over real SMTP (smtplib) and a real broker: the comment a reply
makes is the visible reply of the corpus mails in the shapes of the common clients."""

from __future__ import annotations

from services.ticket_service.adapters.http import schemas
from tests.integration.email.conftest import EmailStack
from tests.integration.email.test_email_flow import _new_ticket
from tests.unit.email.fakes import mail
from tests.unit.email.test_reply_corpus import CASES, normalise

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
