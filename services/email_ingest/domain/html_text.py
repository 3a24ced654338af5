"""HTML → plain text with the stdlib ``html.parser``: block tags become line breaks,
``script``/``style``/``head`` are dropped, entities are decoded, runs of blank lines collapse."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tr", "ul",
    }
)  # fmt: skip
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template"})
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "blockquote":
            self._quote_depth += 1
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        text = _SPACES.sub(" ", data.replace("\n", " "))
        if self._quote_depth and text.strip():
            # Keep quoted HTML recognisable to the quote stripper, like a plain-text reply.
            text = "> " * self._quote_depth + text.lstrip()
        self.parts.append(text)


def html_to_text(markup: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # html.parser is lenient; anything left is treated as text
        return markup
    lines = (line.strip() for line in "".join(collector.parts).split("\n"))
    text = "\n".join(lines)
    return _BLANK_RUNS.sub("\n\n", text).strip()
