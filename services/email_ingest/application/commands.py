"""Routing decisions → contract commands with a command id derived from the Message-ID,
so delivering the same mail again has no second effect in the ticket service."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts import limits
from contracts.commands import (
    AddComment,
    AddCommentData,
    CommandEnvelope,
    CreateFollowUp,
    CreateFollowUpData,
    CreateTicket,
    CreateTicketData,
)
from contracts.common import Actor, Channel, MailReference, Role
from contracts.email_address import is_valid_address
from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.authenticity import UNCHECKED, Authenticity
from services.email_ingest.domain.message import ParsedEmail
from services.email_ingest.domain.routing import FollowUp, NewTicket, Reply

EMAIL_NAMESPACE = uuid5(NAMESPACE_URL, "urn:helpdesk:email-ingest")
CORRELATION_PREFIX = "email:"
"""Commands carry ``correlation_id = "email:<Message-ID>"``; the ticket service copies it
into the events it causes, which is how the index learns the ticket a message made."""
SUBJECT_MAX = limits.SUBJECT_MAX
BODY_MAX = limits.TEXT_MAX
MAX_CC = limits.CC_MAX
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
CHANNEL_DETAILS = "channel_details"
"""The custom field of a ticket made from mail that records how far its sender is proven:
``{"channel": "email", "authenticity": "verified" | "unverified" | "released", "reason": …,
"message_id": …}`` (absent when no authentication check is configured)."""


def channel_details(mail: ParsedEmail, authenticity: Authenticity) -> dict[str, object]:
    label = authenticity.label
    if label is None:
        return {}
    return {
        CHANNEL_DETAILS: {
            "channel": "email",
            "authenticity": label,
            "reason": authenticity.reason[:500],
            "message_id": mail.message_id,
        }
    }


def command_id_for(message_id: str) -> UUID:
    return uuid5(EMAIL_NAMESPACE, message_id)


def correlation_for(message_id: str) -> str:
    return f"{CORRELATION_PREFIX}{message_id}"


def message_id_of(correlation_id: str | None) -> str | None:
    if correlation_id and correlation_id.startswith(CORRELATION_PREFIX):
        return correlation_id[len(CORRELATION_PREFIX) :]
    return None


def valid_address(address: str) -> bool:
    """An address the commands take (:data:`contracts.email_address.EmailStr`)."""
    return is_valid_address(address)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20].rstrip() + "\n[… truncated]"


def _with_attachments(body: str, mail: ParsedEmail) -> str:
    if not mail.attachments:
        return body
    listed = "\n".join(
        f"- {a.filename} ({a.content_type}, {a.size} bytes)" for a in mail.attachments[:50]
    )
    return f"{body}\n\nAttachments:\n{listed}".strip()


def _attachments(mail: ParsedEmail) -> list[dict[str, object]]:
    """The attachment descriptions a comment carries, within the contract's limits."""
    described = []
    for position, attachment in enumerate(mail.attachments[: limits.ATTACHMENTS_MAX], 1):
        entry = {"attachment_id": str(position), **attachment.as_dict()}
        entry["filename"] = attachment.filename[: limits.NAME_MAX]
        entry["content_type"] = attachment.content_type[: limits.NAME_MAX]
        described.append(entry)
    while limits.json_size(described) > limits.ATTACHMENTS_BYTES_MAX:
        described.pop()
    return described


def build_command(
    decision: NewTicket | Reply | FollowUp,
    mail: ParsedEmail,
    support: SupportAddress,
    issued_at: datetime,
    *,
    authenticity: Authenticity = UNCHECKED,
    original: MailReference | None = None,
) -> CommandEnvelope:
    """Raises ``ValueError`` (pydantic ``ValidationError``) when the mail cannot make a
    valid command, e.g. a sender address the contract refuses."""
    sender = mail.sender or ""
    head = {
        "command_id": command_id_for(mail.message_id),
        "issued_at": issued_at,
        "correlation_id": correlation_for(mail.message_id),
        "actor": Actor(role=Role.REQUESTER, email=sender),
    }
    match decision:
        case NewTicket(body=body):
            cc = [
                a for a in mail.cc if a != sender and not support.is_ours(a) and valid_address(a)
            ][:MAX_CC]
            subject = mail.subject.strip() or NO_SUBJECT
            return CreateTicket(
                **head,
                data=CreateTicketData(
                    subject=_clip(subject, SUBJECT_MAX),
                    description=_clip(_with_attachments(body, mail), BODY_MAX),
                    requester=sender,
                    cc=cc,
                    channel=Channel.EMAIL,
                    custom_fields=channel_details(mail, authenticity),
                    attachments=_attachments(mail),
                    original=original,
                ),
            )
        case Reply(match=match, body=body, quoted=quoted):
            return AddComment(
                **head,
                ticket_id=match.ticket.id,
                ticket_number=match.ticket.number,
                data=AddCommentData(
                    body=_clip(body or NO_TEXT, BODY_MAX),
                    public=True,
                    channel=Channel.EMAIL,
                    attachments=_attachments(mail),
                    follow_up_if_closed=True,
                    source_key=mail.message_id,
                    quoted_text=_clip(quoted, limits.QUOTED_TEXT_MAX),
                    original=original,
                ),
            )
        case FollowUp(match=match, body=body):
            return CreateFollowUp(
                **head,
                ticket_id=match.ticket.id,
                ticket_number=match.ticket.number,
                data=CreateFollowUpData(
                    body=_clip(_with_attachments(body, mail), BODY_MAX),
                    channel=Channel.EMAIL,
                    source_key=mail.message_id,
                    attachments=_attachments(mail),
                    original=original,
                ),
            )
