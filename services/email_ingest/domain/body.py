"""The text of a message and its attachments' metadata.

Plain text is preferred; without it the HTML part is converted to text. Charsets: the
declared one, else UTF-8, else Windows-1252 (never fails); NUL bytes are removed. The walk
is iterative and bounded (parts and depth), so hostile nesting cannot exhaust the stack.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.message import Message

from services.email_ingest.domain.headers import decode_header_value
from services.email_ingest.domain.html_text import html_to_text

MAX_PARTS = 500
MAX_DEPTH = 30
MAX_TEXT_CHARS = 1_000_000
BODY_TYPES = frozenset({"text/plain", "text/html"})


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str = ""
    """SHA-256 of the decoded content (hex): its key in the mail store."""
    content: bytes = field(default=b"", repr=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        described: dict[str, object] = {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
        }
        if self.sha256:
            described["sha256"] = self.sha256
        return described


@dataclass(frozen=True)
class Body:
    text: str
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...]


def decode_text(payload: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate).replace("\x00", "")
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("cp1252", errors="replace").replace("\x00", "")


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return "unnamed"
    if name is None:
        return None
    return decode_header_value(name)[:255] or "unnamed"


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition != "inline" and _filename(part) is not None)


def extract_body(msg: Message) -> Body:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])]
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append("TooManyParts")
            break
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                defects.append("TooDeep")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, Message))
            continue
        ctype = part.get_content_type()
        if ctype not in BODY_TYPES or _is_attachment(part):
            content = _payload_bytes(part)
            digest = hashlib.sha256(content).hexdigest()
            name = _filename(part) or "unnamed"
            attachments.append(Attachment(name, ctype, len(content), digest, content))
            continue
        text = decode_text(_payload_bytes(part), _charset(part))
        if ctype == "text/html":
            html.append(text)
        else:
            plain.append(text)
    if plain:
        text = "\n\n".join(plain)
    else:
        text = "\n\n".join(html_to_text(h[:MAX_TEXT_CHARS]) for h in html)
    text = text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_TEXT_CHARS].strip()
    return Body(text=text, attachments=tuple(attachments), defects=tuple(defects))
