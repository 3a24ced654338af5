"""Raw RFC 5322 bytes → :class:`ParsedEmail`, the few facts routing needs.

Parsing uses the stdlib ``email`` package with the lenient ``compat32`` policy (fast, and it
records defects instead of raising). Headers are decoded here (RFC 2047, any charset, bad
bytes replaced); anything the parser cannot survive raises :class:`Unparseable`.
"""

from __future__ import annotations

import email
import hashlib
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

from services.email_ingest.domain.body import Attachment, extract_body
from services.email_ingest.domain.headers import (
    MAX_HEADER_CHARS,
    decode_header_value,
    message_ids,
)
from services.email_ingest.domain.sender import parse_sender, raw_text

MAX_REFERENCES = 50
MAX_AUTH_RESULTS = 20
"""``Authentication-Results`` headers kept (topmost first); ours is at the top."""


class Unparseable(Exception):
    """The bytes are not a message we can read. ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    """``<id@host>``; derived from the content hash when the message has none."""
    message_id_generated: bool
    sender: str | None
    """Lower-cased bare address of ``From`` (else ``Sender``), None when missing or
    ambiguous (:mod:`~services.email_ingest.domain.sender`)."""
    sender_name: str
    subject: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: dict[str, str]
    """Lower-cased names of the loop-relevant headers → their decoded value."""
    body: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    defects: tuple[str, ...] = field(default_factory=tuple)
    sender_problem: str | None = None
    """Set when ``From`` names an address but not exactly one, unambiguously."""
    authentication_results: tuple[str, ...] = ()
    """Raw ``Authentication-Results`` values, topmost (latest added) first."""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this one answers, most specific first: ``In-Reply-To``, then
        ``References`` from the newest (last) to the oldest."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            if mid != self.message_id:
                seen.setdefault(mid, None)
        return tuple(seen)


LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-loop",
    "list-id",
    "list-unsubscribe",
    "x-mailer",
    "return-path",
    "delivered-to",
)


def _addresses(values: list[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for _name, addr in getaddresses(values):
        addr = addr.strip().lower()
        if "@" in addr:
            found.setdefault(addr, None)
    return tuple(found)


def _header(msg: Message, name: str) -> str:
    return decode_header_value(msg.get(name))


def _raw(msg: Message, name: str) -> list[str]:
    """Undecoded values of a header, in message order (top first)."""
    name = name.lower()
    return [raw_text(str(v)) for k, v in msg.raw_items() if k.lower() == name]


def _all(msg: Message, name: str) -> list[str]:
    return [decode_header_value(v) for v in (msg.get_all(name) or [])]


def parse_message(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw)
    except RecursionError:
        raise Unparseable("nesting_too_deep", "MIME parts nested beyond the parser limit") from None
    except Exception as error:  # the parser is lenient; this is a last resort
        raise Unparseable("parse_error", f"{type(error).__name__}: {error}") from error


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse and extract. Raises :class:`Unparseable` for bytes that are not a message."""
    if not raw.strip():
        raise Unparseable("empty", "no bytes")
    msg = parse_message(raw)
    if not msg.keys():
        raise Unparseable("no_headers", "no header could be read")
    try:
        return _extract(msg, raw)
    except Unparseable:
        raise
    except RecursionError:
        raise Unparseable("nesting_too_deep", "MIME parts nested too deeply") from None
    except Exception as error:
        raise Unparseable("extract_error", f"{type(error).__name__}: {error}") from error


def _extract(msg: Message, raw: bytes) -> ParsedEmail:
    ids = message_ids(_header(msg, "Message-ID"))
    generated = not ids
    message_id = ids[0] if ids else f"<sha256.{hashlib.sha256(raw).hexdigest()}@generated>"
    sender = parse_sender(_raw(msg, "From"), _raw(msg, "Sender"))
    body = extract_body(msg)
    references = message_ids(" ".join(_all(msg, "References")))[-MAX_REFERENCES:]
    return ParsedEmail(
        message_id=message_id,
        message_id_generated=generated,
        sender=sender.address,
        sender_name=sender.name,
        subject=_header(msg, "Subject"),
        to=_addresses(_all(msg, "To")),
        cc=_addresses(_all(msg, "Cc")),
        in_reply_to=message_ids(_header(msg, "In-Reply-To"))[:MAX_REFERENCES],
        references=references,
        headers={h: _header(msg, h) for h in LOOP_HEADERS if msg.get(h) is not None},
        body=body.text,
        attachments=body.attachments,
        defects=body.defects,
        sender_problem=sender.problem,
        authentication_results=tuple(
            v[:MAX_HEADER_CHARS] for v in _raw(msg, "Authentication-Results")[:MAX_AUTH_RESULTS]
        ),
    )
