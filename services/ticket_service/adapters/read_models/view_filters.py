"""The indexed columns the agent views filter and sort on (``GET /api/v1/views/all`` and
``/closed``): one row per ticket in ``helpdesk_view_fields``, its tags in
``helpdesk_view_tags`` and the words of its subject in ``helpdesk_view_words``, written in
the same transaction as the ticket documents (:mod:`.projector`).

A filter is an exact match on an indexed column (status, priority, assignee, requester,
tag), and text is matched word by word: every word of the query must begin a word of the
subject (case-insensitive), an index range per word. Pages are keyset-paginated: the
cursor is the sort key of the last row, so a page costs an index range, never an offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.ticket_service.adapters.read_models.view_tables import Cursor
from services.ticket_service.application.ticket_docs import Doc

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS helpdesk_view_fields (
        number BIGINT PRIMARY KEY,
        is_closed INTEGER NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        assignee TEXT NOT NULL,
        requester TEXT NOT NULL,
        updated_us BIGINT NOT NULL,
        closed_position BIGINT)""",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_updated "
    "ON helpdesk_view_fields (is_closed, updated_us, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_closed "
    "ON helpdesk_view_fields (is_closed, closed_position)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_status "
    "ON helpdesk_view_fields (is_closed, status, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_priority "
    "ON helpdesk_view_fields (is_closed, priority, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_assignee "
    "ON helpdesk_view_fields (is_closed, assignee, number)",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_fields_requester "
    "ON helpdesk_view_fields (is_closed, requester, number)",
    """CREATE TABLE IF NOT EXISTS helpdesk_view_tags (
        tag TEXT NOT NULL,
        number BIGINT NOT NULL,
        PRIMARY KEY (tag, number))""",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_tags_number ON helpdesk_view_tags (number)",
    """CREATE TABLE IF NOT EXISTS helpdesk_view_words (
        word TEXT NOT NULL,
        number BIGINT NOT NULL,
        PRIMARY KEY (word, number))""",
    "CREATE INDEX IF NOT EXISTS helpdesk_view_words_number ON helpdesk_view_words (number)",
)

WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 8
TOP = 2**62


class Sort(StrEnum):
    """The orders of the All view (Closed is always most recently closed first)."""

    NEWEST = "-number"
    OLDEST = "number"
    RECENTLY_UPDATED = "-updated"
    LEAST_RECENTLY_UPDATED = "updated"


@dataclass(frozen=True)
class Filters:
    """Exact-match filters (None: any) and the subject text."""

    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    requester: str | None = None
    tag: str | None = None
    text: str | None = None


class InvalidCursor(ValueError):
    """A cursor this order never returned."""


def words_of(text: str) -> list[str]:
    return sorted({w.lower() for w in WORD.findall(text)})


def micros(iso: str) -> int:
    """An ISO timestamp as microseconds since the epoch (a sortable integer)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def write(cur: Cursor, docs: Sequence[Doc]) -> None:
    """The index rows of ``docs`` (replacing those they had)."""
    if not docs:
        return
    cur.executemany(
        "INSERT INTO helpdesk_view_fields (number, is_closed, status, priority, assignee, "
        "requester, updated_us, closed_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (number) DO UPDATE SET is_closed = excluded.is_closed, "
        "status = excluded.status, priority = excluded.priority, "
        "assignee = excluded.assignee, requester = excluded.requester, "
        "updated_us = excluded.updated_us, closed_position = excluded.closed_position",
        [
            (
                d["number"],
                1 if d["status"] == "closed" else 0,
                d["status"],
                d["priority"],
                d.get("assignee") or "",
                str(d["requester"]).lower(),
                micros(d["updated_at"]),
                d.get("closed_position"),
            )
            for d in docs
        ],
    )
    numbers = [(d["number"],) for d in docs]
    cur.executemany("DELETE FROM helpdesk_view_tags WHERE number = ?", numbers)
    cur.executemany(
        "INSERT INTO helpdesk_view_tags (tag, number) VALUES (?, ?)",
        [(tag, d["number"]) for d in docs for tag in sorted(set(d.get("tags") or []))],
    )
    cur.executemany("DELETE FROM helpdesk_view_words WHERE number = ?", numbers)
    cur.executemany(
        "INSERT INTO helpdesk_view_words (word, number) VALUES (?, ?)",
        [(w, d["number"]) for d in docs for w in words_of(str(d["subject"]))],
    )


def clear(cur: Cursor) -> None:
    for table in ("helpdesk_view_words", "helpdesk_view_tags", "helpdesk_view_fields"):
        cur.execute(f"DELETE FROM {table}")


def next_word(word: str) -> str:
    """The smallest string above every string that starts with ``word``."""
    return word[:-1] + chr(ord(word[-1]) + 1)


def query(
    closed: bool, filters: Filters, sort: Sort, cursor: str | None, limit: int
) -> tuple[str, list[Any]]:
    """The SELECT of one page (``limit + 1`` rows, to tell whether there is a next one):
    the documents with their sort keys ``k1`` and ``k2``."""
    where = ["f.is_closed = ?"]
    args: list[Any] = [1 if closed else 0]
    for column, value in (
        ("status", filters.status),
        ("priority", filters.priority),
        ("assignee", filters.assignee),
        ("requester", filters.requester.lower() if filters.requester else None),
    ):
        if value:
            where.append(f"f.{column} = ?")
            args.append(value)
    if filters.tag:
        where.append("f.number IN (SELECT number FROM helpdesk_view_tags WHERE tag = ?)")
        args.append(filters.tag)
    for word in words_of(filters.text or "")[:MAX_QUERY_WORDS]:
        where.append(
            "f.number IN (SELECT number FROM helpdesk_view_words WHERE word >= ? AND word < ?)"
        )
        args += [word, next_word(word)]
    first, second = parse_cursor(cursor, closed, sort)
    if closed:
        keys, order = "f.closed_position AS k1, 0 AS k2", "f.closed_position DESC"
        where.append("f.closed_position < ?")
        args.append(first if first is not None else TOP)
    elif sort in (Sort.NEWEST, Sort.OLDEST):
        keys = "f.number AS k1, 0 AS k2"
        descending = sort == Sort.NEWEST
        order = "f.number DESC" if descending else "f.number ASC"
        if first is not None:
            where.append("f.number < ?" if descending else "f.number > ?")
            args.append(first)
    else:
        keys = "f.updated_us AS k1, f.number AS k2"
        descending = sort == Sort.RECENTLY_UPDATED
        op = "<" if descending else ">"
        way = "DESC" if descending else "ASC"
        order = f"f.updated_us {way}, f.number {way}"
        if first is not None:
            where.append(f"(f.updated_us {op} ? OR (f.updated_us = ? AND f.number {op} ?))")
            args += [first, first, second]
    sql = (
        f"SELECT t.doc, {keys} FROM helpdesk_view_fields f "
        "JOIN helpdesk_view_tickets t ON t.number = f.number "
        f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    )
    args.append(limit + 1)
    return sql, args


def cursor_of(row: Any, closed: bool, sort: Sort) -> str:
    if closed or sort in (Sort.NEWEST, Sort.OLDEST):
        return str(int(row["k1"]))
    return f"{int(row['k1'])}.{int(row['k2'])}"


MAX_CURSOR_PART = 2**63 - 1
"""The largest key the view tables hold (a signed 64-bit integer in both stores)."""


def parse_cursor(cursor: str | None, closed: bool, sort: Sort) -> tuple[int | None, int]:
    if not cursor:
        return None, 0
    parts = cursor.split(".")
    two = not closed and sort in (Sort.RECENTLY_UPDATED, Sort.LEAST_RECENTLY_UPDATED)
    if len(parts) != (2 if two else 1) or not all(
        p.isascii() and p.isdigit() and len(p) <= 19 and int(p) <= MAX_CURSOR_PART for p in parts
    ):
        raise InvalidCursor(cursor)
    return int(parts[0]), int(parts[1]) if two else 0
