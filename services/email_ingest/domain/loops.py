"""Mail that must not reach a ticket: auto-replies, bulk and list mail, our own mail.

Answering such mail (or turning it into comments) is how mail loops start, so it is
dropped with a log line (design §6). The checks follow RFC 3834 and the de-facto headers
that Exchange, Gmail and list servers set.
"""

from __future__ import annotations

from services.email_ingest.domain.addresses import SupportAddress
from services.email_ingest.domain.message import ParsedEmail

BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})


def automated_reason(mail: ParsedEmail, support: SupportAddress) -> str | None:
    """Why this message is machine-sent (a short code), or None for a person's mail."""
    headers = mail.headers
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"auto_submitted:{auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"precedence:{precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        if name in headers:
            return name
    if "x-loop" in headers:
        return "x-loop"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing_list"
    if mail.sender and support.is_ours(mail.sender):
        return "own_address"
    if mail.sender and mail.sender.split("@")[0] in {"mailer-daemon", "postmaster"}:
        return "bounce"
    return None
