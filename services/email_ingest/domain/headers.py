"""Header decoding shared by message and body extraction."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
MAX_HEADER_CHARS = 10_000
"""Header values are cut here before decoding: nothing routing needs is longer."""


def decode_header_value(value: object) -> str:
    """A header as text: RFC 2047 words decoded, unknown charsets and bad bytes replaced."""
    if value is None:
        return ""
    raw = str(value)[:MAX_HEADER_CHARS]
    try:
        text = str(make_header(decode_header(raw)))
    except Exception:  # unknown charset, broken encoded-word: keep the raw text
        text = raw
    return text.replace("\x00", "").replace("\r", "").replace("\n", " ").strip()


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(MESSAGE_ID.findall(value))
