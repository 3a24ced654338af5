"""The reply corpus (``tests/fixtures/replies/``): our reply extraction against
mail-parser-reply on the same mails. Each file has a metadata header, the body and the
expected visible text; ``quoted: yes`` says the mail has quoted history to collapse.

The figures in docs/email.md come from::

    .venv/bin/python -m pytest -q -s tests/unit/email/test_reply_corpus.py
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from mailparser_reply import EmailReplyParser

from services.email_ingest.domain.reply_text import extract_reply

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "replies"
LANGUAGES = ["en", "de", "fr", "es", "nl"]


@dataclass(frozen=True)
class Case:
    name: str
    meta: dict[str, str]
    body: str
    visible: str

    @property
    def quoted(self) -> bool:
        return self.meta.get("quoted") == "yes"

    @property
    def acceptance(self) -> bool:
        return self.meta.get("acceptance") == "yes"


def _load(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("=== body\n", 1)
    body, visible = rest.split("\n=== visible\n", 1)
    meta = dict(line.split(": ", 1) for line in head.splitlines() if line.strip())
    return Case(path.stem, meta, body, visible.removesuffix("\n"))


CASES = [_load(p) for p in sorted(CORPUS.glob("*.txt"))]


def normalise(text: str | None) -> str:
    lines = [line.rstrip() for line in (text or "").strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def ours(case: Case) -> bool:
    reply = extract_reply(case.body)
    return normalise(reply.visible) == normalise(case.visible) and bool(reply.quoted) == (
        case.quoted
    )


def library(case: Case) -> bool:
    parsed = EmailReplyParser(languages=list(LANGUAGES)).parse_reply(case.body)
    return normalise(parsed) == normalise(case.visible)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    shapes = {c.meta["shape"] for c in CASES}
    assert {"top", "bottom", "interleaved", "empty"} <= shapes


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_case(case: Case) -> None:
    reply = extract_reply(case.body)
    assert normalise(reply.visible) == normalise(case.visible)
    assert bool(reply.quoted) == case.quoted, reply.quoted
    if case.meta["shape"] == "empty":
        assert reply.kept_whole


def test_pass_rate_at_least_the_library_s() -> None:
    mine = [c.name for c in CASES if ours(c)]
    theirs = [c.name for c in CASES if library(c)]
    print(
        f"\nreply corpus: {len(CASES)} mails; reply_text {len(mine)}/{len(CASES)}"
        f" ({100 * len(mine) / len(CASES):.0f} %), mail-parser-reply {len(theirs)}/"
        f"{len(CASES)} ({100 * len(theirs) / len(CASES):.0f} %)"
    )
    print("mail-parser-reply misses:", ", ".join(c.name for c in CASES if not library(c)))
    assert len(mine) >= len(theirs)
    assert all(ours(c) for c in CASES if c.acceptance)
