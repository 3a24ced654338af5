"""The analytics consumer example in docs/events.md runs and counts each event once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def example_namespace() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    (example,) = [b for b in blocks if "class ClosedTicketStats" in b]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(example, str(DOC), "exec"), namespace)
    return namespace


def event(ticket: str, version: int, event_type: str, **data: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket,
        "version": version,
        "event_type": event_type,
        "occurred_at": "2026-11-27T10:00:00Z",
        "data": data,
    }


def test_duplicates_from_a_republished_span_are_counted_once() -> None:
    stats = example_namespace()["ClosedTicketStats"]()
    stream = [
        event("a", 1, "TicketCreated"),
        event("b", 1, "TicketCreated"),
        event("a", 2, "TicketClosed", closed_by="automation"),
        # the relay crashed before recording: the span is published again
        event("b", 1, "TicketCreated"),
        event("a", 2, "TicketClosed", closed_by="automation"),
        event("b", 2, "TicketClosed", closed_by="integration"),
    ]
    applied = [stats.apply(e) for e in stream]
    assert applied == [True, True, True, False, False, True]
    assert stats.closed_per_day == {"2026-11-27": 2}
    assert stats.closed_by_automation == 1
