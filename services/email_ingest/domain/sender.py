"""The one address a mail is from, read strictly (CVE-2023-27043).

``email.utils.parseaddr`` of Python 3.11.7 reads ``ann@example.com <mallory@evil.example>``
as ann, and decoding RFC 2047 words *before* parsing turns ``=?utf-8?q?ann=40example.com?=
<mallory@evil.example>`` into the same trick. So the header is parsed undecoded with the
stdlib's RFC 5322 parser (``email.headerregistry``), which decodes encoded words only inside
the display name, and the result is trusted only when it is exactly one address and the
parser recorded no defect. Anything else that contains an ``@`` is *ambiguous*: no address
is attributed and the mail is suspended for an admin to look at (docs/email.md, trust
model); a header without any ``@`` names no address at all, as if it were missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy

MAX_SENDER_HEADER_CHARS = 2_000
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Sender:
    address: str | None
    """Lower-cased bare address, None when missing or ambiguous."""
    name: str = ""
    problem: str | None = None
    """Why no address could be attributed although the mail names one (ambiguity)."""


NO_SENDER = Sender(None)


def raw_text(value: str) -> str:
    """A raw header value as text: 8-bit bytes (kept by the parser as surrogate escapes)
    read as UTF-8, folding undone."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _FOLD.sub("", text).replace("\r", "").replace("\n", "")


def parse_sender(from_values: Sequence[str], sender_values: Sequence[str] = ()) -> Sender:
    """``From`` (raw, undecoded header values), else ``Sender``; ambiguity is never
    resolved by falling back: a mail whose ``From`` is ambiguous has no sender."""
    for name, values in (("From", from_values), ("Sender", sender_values)):
        if len(values) > 1:
            return Sender(None, problem=f"{len(values)} {name} headers")
        if not values:
            continue
        found = _one_address(name, values[0])
        if found is not None:
            return found
    return NO_SENDER


def _one_address(name: str, value: str) -> Sender | None:
    """The address of one header value; None when it names none (empty, a bare group)."""
    text = raw_text(value)
    if "@" not in text:
        return None  # names no address (empty, a bare group, junk): as if missing
    if len(text) > MAX_SENDER_HEADER_CHARS:
        return Sender(None, problem=f"{name} longer than {MAX_SENDER_HEADER_CHARS} characters")
    try:
        header = policy.default.header_factory(name, text)
        addresses = header.addresses
        defects = header.defects
    except Exception as error:  # the parser gave up: that is an ambiguity too
        return Sender(None, problem=f"{name} unreadable: {type(error).__name__}")
    if defects:
        kinds = ", ".join(sorted({type(d).__name__ for d in defects}))
        return Sender(None, problem=f"{name} is malformed ({kinds})")
    if not addresses:
        return None
    if len(addresses) > 1:
        return Sender(None, problem=f"{name} names {len(addresses)} addresses")
    [address] = addresses
    spec = str(address.addr_spec).strip().lower()
    local, _, domain = spec.rpartition("@")
    if not local or not domain or _CONTROL.search(spec) or " " in spec or '"' in domain:
        return Sender(None, problem=f"{name} address is not usable")
    return Sender(spec, name=_CONTROL.sub("", str(address.display_name)).strip())
