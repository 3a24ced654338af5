"""Quoted-reply stripping: keep what the sender wrote, drop the history they quoted.

No maintained library for this is a dependency, so this is a small documented heuristic
(docs/email.md). The new text ends at the first of:
- a line starting with ``>`` that begins a block running to the end of the message
  (blank lines and further quote lines allowed), so inline answers between quotes survive;
- an attribution line: ``On <date>, <someone> wrote:`` (also split over two lines), and its
  common translations (``Am … schrieb …:``, ``Le … a écrit :``, ``El … escribió:``);
- an Outlook separator: ``-----Original Message-----``, ``________________________________``
  followed by ``From:``, or a ``From: … / Sent: …`` header block;
- a signature separator ``-- `` (RFC 3676).
If stripping would leave nothing, the whole text is kept.
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{0,300}\bwrote:|am\b.{0,300}\bschrieb\b.{0,100}:|le\b.{0,300}\ba écrit\s*:"
    r"|el\b.{0,300}\bescribió:)\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|am|le|el)\b.{0,300}$", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"^.{0,300}\b(wrote|schrieb|a écrit|escribió)\s*:\s*$", re.I)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(original message|forwarded message)\s*-{2,}\s*$", re.I)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|gesendet|envoyé|to|an|à|subject)\s*:", re.I)
_SIGNATURE = "-- "


def _quote_tail_starts(lines: list[str], index: int) -> bool:
    """A quote block from here to the end (blank lines and signatures aside)?"""
    for line in lines[index:]:
        stripped = line.strip()
        if stripped and not stripped.startswith(">"):
            return False
    return True


def _cut_at(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") and _quote_tail_starts(lines, i):
            return i
        if line.rstrip("\r") == _SIGNATURE or stripped == "--":
            return i
        if _ATTRIBUTION.match(line) or _ORIGINAL.match(line):
            return i
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _ATTRIBUTION_START.match(line) and _ATTRIBUTION_END.match(nxt):
            return i
        if _UNDERSCORES.match(line) and _HEADER_FROM.match(nxt):
            return i
        if _HEADER_FROM.match(line) and _HEADER_NEXT.match(nxt):
            return i
    return len(lines)


def strip_quoted(text: str) -> str:
    """The new part of a reply (see the module docstring for the rules)."""
    lines = text.splitlines()
    new = "\n".join(lines[: _cut_at(lines)]).strip()
    return new or text.strip()
