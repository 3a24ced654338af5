"""The visible reply of a mail, and the quoted history kept apart (pure, no I/O).

A reply is read line by line and every line is classified:

* **quoted** — starts with ``>`` (also HTML ``<blockquote>``, which ``html_text`` renders so);
* **attribution** — the line a client writes above the quote it includes: ``On <date>,
  <someone> wrote:`` and its translations (German ``Am … schrieb …:``, French ``Le … a
  écrit :``, Spanish ``El … escribió:``, Dutch ``Op … schreef …:``, Italian, Portuguese,
  Scandinavian, Polish), also split over two lines (Gmail wraps long names), and only when a
  quoted line follows it: a sentence that happens to end in "wrote:" is text;
* **history** — from an Outlook-style marker to the end: ``-----Original Message-----`` (and
  translations), a line of underscores followed by ``From:``, or a ``From:`` header block
  (``From:``/``De :``/``Von:``/``Van:`` followed by at least two of ``Sent:``, ``To:``,
  ``Subject:``, … in any of the languages above). Outlook quotes without ``>``, so this is
  the one marker that ends the text even though unquoted lines follow;
* **text** — everything else.

The **visible text** runs from the start to the last *text* line before the history. So a
top-posted reply ends before its quote, a bottom-posted reply (quote first, answer below)
keeps its answer, and interleaved answers keep the quoted lines they answer. From the end of
that text are then removed: a ``-- `` signature (at most :data:`SIGNATURE_MAX_LINES` lines;
a longer "signature" is text), mobile signatures (``Sent from my iPhone``, ``Get Outlook for
Android``, ``Von meinem iPhone gesendet``, …), mailing-list footers (Mailman, Google Groups,
"To unsubscribe …"), and trailing separator lines.

The **quoted text** is the history after the visible text (attribution, quote, Outlook
block), collapsed rather than dropped; empty when there is none.

**Never lose text:** when the visible text would have no letter or digit left, the whole
text is the visible text (``kept_whole``) and nothing is taken apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIGNATURE_MAX_LINES = 10
"""Non-blank lines below a ``-- `` separator that are still taken for a signature."""
FOOTER_MAX_LINES = 8
"""Non-blank lines of a mailing-list footer block."""

_WROTE = (
    r"wrote|schrieb|a\s+écrit|escribió|schreef|ha\s+scritto|escreveu|skrev|napisał|"
    r"написал|kirjoitti"
)
_ATTRIBUTION_END = re.compile(rf"^.{{0,300}}\b(?:{_WROTE})\b[^:\n]{{0,200}}:\s*$", re.I)
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:on|am|le|el|op|il|em|den|dnia|w\s+dniu)\b.{0,300}$", re.IGNORECASE
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|oorspronkelijk bericht|messaggio originale|mensagem original)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|von|de|van|da|från|fra|od)\s*:\*?\s*\S", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|"
    r"enviado|fecha|para|asunto|verzonden|aan|onderwerp|inviato|oggetto|data|a|"
    r"skickat|till|ämne)\s*:",
    re.IGNORECASE,
)
_MOBILE = re.compile(
    r"^\s*(?:"
    r"sent\s+(?:from|via|with)\s+(?:my\s+)?[\w.\-]+(?:\s+[\w.\-]+){0,5}\s*[.!]?"
    r"|get\s+outlook\s+for\s+\w+(?:\s*<[^>]*>)?"
    r"|von\s+meinem\s+[\w.\-]+(?:\s+[\w.\-]+){0,3}\s+gesendet\.?"
    r"|gesendet\s+von\s+(?:meinem\s+)?[\w.\-]+(?:\s+[\w.\-]+){0,3}\.?"
    r"|envoyé\s+(?:de|depuis)\s+(?:mon\s+)?[\w.\-]+(?:\s+[\w.\-]+){0,3}\.?"
    r"|enviado\s+desde\s+(?:mi\s+)?[\w.\-]+(?:\s+[\w.\-]+){0,3}\.?"
    r"|verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?[\w.\-]+(?:\s+[\w.\-]+){0,3}\.?"
    r"|inviato\s+da\s+[\w.\-]+(?:\s+[\w.\-]+){0,3}\.?"
    r")\s*$",
    re.IGNORECASE,
)
_FOOTER_HINT = re.compile(
    r"mailing\s+list|listinfo|unsubscribe|you\s+received\s+this\s+message\s+because|"
    r"abmelden|désinscri|darse\s+de\s+baja|afmelden",
    re.IGNORECASE,
)
_FOOTER_LINE = re.compile(
    r"you\s+received\s+this\s+message\s+because|"
    r"(?:unsubscribe|listinfo|mailing\s+list).*(?:@|https?://)|(?:@|https?://).*unsubscribe",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*(?:[-_=*~]\s*){3,}$")
_WORD = re.compile(r"\w")

TEXT, BLANK, QUOTED, ATTRIBUTION, HISTORY = range(5)


@dataclass(frozen=True)
class ReplyText:
    visible: str
    """What the sender wrote: the comment's body."""
    quoted: str
    """The history below it (attribution, quote, Outlook block); ``""`` when there is none."""
    kept_whole: bool = False
    """Parsing would have left almost nothing, so the whole text was kept."""


def _next_content(lines: list[str], index: int) -> int | None:
    for j in range(index, len(lines)):
        if lines[j].strip():
            return j
    return None


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _history_start(lines: list[str]) -> int:
    """The first Outlook-style marker: everything from it on is history."""
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line):
            return i
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _UNDERSCORES.match(line) and _HEADER_FROM.match(nxt):
            return i
        if _HEADER_FROM.match(line):
            following = [x for x in lines[i + 1 : i + 6] if x.strip()][:4]
            if sum(1 for x in following if _HEADER_NEXT.match(x)) >= 2:
                start = i
                if i > 0 and _UNDERSCORES.match(lines[i - 1]):
                    start = i - 1
                return start
    return len(lines)


def _classify(lines: list[str], history: int) -> list[int]:
    kinds = [TEXT] * len(lines)
    for i, line in enumerate(lines):
        if i >= history:
            kinds[i] = HISTORY
        elif not line.strip():
            kinds[i] = BLANK
        elif _is_quoted(line):
            kinds[i] = QUOTED
    for i, line in enumerate(lines[:history]):
        if kinds[i] != TEXT or not line.rstrip().endswith(":"):
            continue
        after = _next_content(lines, i + 1)
        if after is None or (kinds[after] not in (QUOTED, HISTORY)):
            continue  # "... wrote:" with no quote below it is a sentence
        prev = i - 1
        two_lines = (
            prev >= 0
            and kinds[prev] == TEXT
            and _ATTRIBUTION_START.match(lines[prev]) is not None
            and _ATTRIBUTION_START.match(line) is None
            and _ATTRIBUTION_END.match(f"{lines[prev].rstrip()} {line.strip()}") is not None
        )
        if two_lines:
            kinds[prev] = kinds[i] = ATTRIBUTION
        elif _ATTRIBUTION_END.match(line):
            kinds[i] = ATTRIBUTION
    return kinds


def _content_indices(lines: list[str], end: int) -> list[int]:
    return [j for j in range(end) if lines[j].strip()]


def _trim_tail(lines: list[str], end: int) -> int:
    """Remove signatures, mobile signatures, list footers and separators from the end of
    ``lines[:end]``; returns the new end."""
    changed = True
    while changed and end > 0:
        changed = False
        content = _content_indices(lines, end)
        if not content:
            return 0
        last = content[-1]
        line = lines[last]
        if _MOBILE.match(line) or _SEPARATOR.match(line):
            end, changed = last, True
            continue
        # a "-- " signature, or a list footer block, near the end
        for start in reversed(content[-(max(SIGNATURE_MAX_LINES, FOOTER_MAX_LINES) + 1) :]):
            below = [j for j in content if j > start]
            stripped = lines[start].rstrip()
            if stripped in ("--", "-- ") and len(below) <= SIGNATURE_MAX_LINES:
                end, changed = start, True
                break
            if len(below) < FOOTER_MAX_LINES and _footer_starts(lines, start, below):
                end, changed = start, True
                break
    return end


def _footer_starts(lines: list[str], start: int, below: list[int]) -> bool:
    """A mailing-list footer from ``start``: a separator line above footer wording, or a
    footer line itself (unsubscribe wording with an address or link)."""
    if _SEPARATOR.match(lines[start]):
        return any(_FOOTER_HINT.search(lines[j]) for j in below)
    line = lines[start]
    return bool(_FOOTER_LINE.search(line)) and len(below) <= 2


def extract_reply(text: str) -> ReplyText:
    """Split a plain-text mail body into the visible reply and the quoted history."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    history = _history_start(lines)
    kinds = _classify(lines, history)
    texts = [i for i, k in enumerate(kinds) if k == TEXT]
    if not texts:
        return _whole(text)
    end = _trim_tail(lines, texts[-1] + 1)
    visible = "\n".join(lines[:end]).strip()
    if not _WORD.search(visible):
        return _whole(text)
    quoted_from = next(
        (i for i in range(end, len(lines)) if kinds[i] in (QUOTED, ATTRIBUTION, HISTORY)),
        None,
    )
    quoted = "\n".join(lines[quoted_from:]).strip() if quoted_from is not None else ""
    return ReplyText(visible=visible, quoted=quoted)


def _whole(text: str) -> ReplyText:
    return ReplyText(visible=text.strip(), quoted="", kept_whole=True)
