"""SLA audit over 1,000,000 stored events: events/s next to a bare read of the same
notification log in the same run, and peak memory at two history lengths.

The history is written straight into the store's table in big batches: a real ticket's
events (made by the Ticket aggregate and encoded by the application's own mapper) serve as
templates whose times, ids and numbers are filled in per ticket, so 1M events take seconds
instead of minutes through ``app.save``. Tickets arrive every two minutes and live ~8 days
(7 events each), interleaved in time order, so some thousands are active at any moment.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from bench.report import Row
from contracts.common import TicketFields
from services.settings import Settings
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ids import ticket_id_for
from services.ticket_service.domain.ticket import Ticket
from services.ticket_service.sla.facts import Fact

EVENTS = int(os.environ.get("BENCH_SLA_EVENTS", "1000000"))
SMALL = EVENTS // 10
PASSES = 2
ARRIVAL = timedelta(minutes=2)
T0 = datetime(2000, 1, 3, 9, 0, tzinfo=UTC)
AGENT = {"role": "agent", "email": "agent@example.com"}
REQUESTER = {"role": "requester", "email": "requester@example.com"}
WEEK = timedelta(days=7)


def _ticket_templates() -> list[tuple[str, timedelta, str]]:
    """(topic, offset from creation, state template) for one ticket's 7 events."""
    app = build_application(Settings(database_url="sqlite:///:memory:"))
    fields = TicketFields(
        subject="Printer on fire", requester="requester@example.com", priority="high"
    ).model_dump(mode="json")
    offsets = [timedelta(0)]
    t = Ticket.open(
        number=1, fields=fields, channel="email", actor=REQUESTER, at=T0, auto_close_after=WEEK
    )
    steps: list[tuple[timedelta, str, dict[str, object]]] = [
        (timedelta(hours=1, minutes=10), "reply", {}),
        (timedelta(hours=1, minutes=11), "status", {"status": "pending"}),
        (timedelta(days=1), "requester", {}),
        (timedelta(days=1, hours=3), "status", {"status": "solved"}),
        (timedelta(days=8, hours=3), "close", {}),
    ]
    for offset, what, arg in steps:
        at = T0 + offset
        if what == "reply":
            t.add_comment(
                body="Have you tried turning it off and on again?",
                public=True,
                actor=AGENT,
                channel="agent",
                at=at,
                auto_close_after=WEEK,
            )
            offsets.append(offset)
        elif what == "requester":
            t.add_comment(
                body="Yes. Still on fire.",
                public=True,
                actor=REQUESTER,
                channel="email",
                at=at,
                auto_close_after=WEEK,
            )
            offsets += [offset, offset]  # the comment and the reopen to open
        elif what == "status":
            t.update(arg, actor=AGENT, at=at, auto_close_after=WEEK)
            offsets.append(offset)
        else:
            t.auto_close(solve_id=1, at=at)
            offsets.append(offset)
    out = []
    for event, offset in zip(t.collect_events(), offsets, strict=True):
        stored = app.mapper.to_stored_event(event)
        at_iso = (T0 + offset).isoformat()
        due_iso = (T0 + offset + WEEK).isoformat()
        text = stored.state.decode().replace("%", "%%")
        text = text.replace(f'"_data_":"{due_iso}"', '"_data_":"%(due)s"')
        text = text.replace(f'"_data_":"{at_iso}"', '"_data_":"%(at)s"')
        text = re.sub(r'"number":1([,}])', r'"number":%(number)d\1', text)
        text = re.sub(r'"ticket_number":1([,}])', r'"ticket_number":%(number)d\1', text)
        text = re.sub(r'"uuid_hex","_data_":"[0-9a-f]{32}"', '"uuid_hex","_data_":"%(cid)s"', text)
        out.append((stored.topic, offset, text))
    app.close()
    return out


def _events(count: int) -> Iterator[StoredEvent]:
    """Events of tickets 1, 2, ... in time order until ``count``."""
    templates = _ticket_templates()
    per_ticket = len(templates)
    tickets = -(-count // per_ticket)
    heap: list[tuple[datetime, int, int, UUID]] = []
    next_ticket = 1
    emitted = 0
    while emitted < count:
        created = T0 + ARRIVAL * (next_ticket - 1)
        while next_ticket <= tickets and (not heap or created <= heap[0][0]):
            heapq.heappush(heap, (created, next_ticket, 0, ticket_id_for(next_ticket)))
            next_ticket += 1
            created = T0 + ARRIVAL * (next_ticket - 1)
        at, number, index, ticket_id = heapq.heappop(heap)
        topic, _offset, template = templates[index]
        values: dict[str, object] = {"at": at.isoformat(), "number": number}
        if "%(due)s" in template:
            values["due"] = (at + WEEK).isoformat()
        if "%(cid)s" in template:
            values["cid"] = f"{number:016x}{index:016x}"
        state = template % values
        yield StoredEvent(ticket_id, index + 1, topic, state.encode())
        emitted += 1
        if index + 1 < per_ticket:
            nxt = T0 + ARRIVAL * (number - 1) + templates[index + 1][1]
            heapq.heappush(heap, (nxt, number, index + 1, ticket_id))


def _generate(data_dir: Path, count: int) -> float:
    app = build_application(Settings(data_dir=data_dir))
    start = time.perf_counter()
    batch: list[StoredEvent] = []
    for stored in _events(count):
        batch.append(stored)
        if len(batch) == 20_000:
            app.recorder.insert_events(batch)
            batch = []
    if batch:
        app.recorder.insert_events(batch)
    app.close()
    return time.perf_counter() - start


# ---- measured in a child process (own memory peak, same store file) ----------------------


def _child(data_dir: str, what: str, stop: int) -> None:
    """Time one pass: ``bare`` (read every notification through the recorder), ``rows``
    (the audit's own narrow SQLite read, nothing else), ``audit1`` (replay into rows and
    totals in this process, up to ``stop``), ``audit`` (the whole store as ``helpdesk sla
    audit`` replays it: worker processes, one per CPU) or ``report`` (``audit`` plus the
    CSV report written to /dev/null)."""
    from services.ticket_service.sla.audit import Audit, RowFilter
    from services.ticket_service.sla.command import audit_store
    from services.ticket_service.sla.parallel import jobs_for
    from services.ticket_service.sla.policy import SlaPolicy
    from services.ticket_service.sla.render import render
    from services.ticket_service.sla.sources.store import (
        log_rows,
        read_notifications,
        store_facts,
    )

    settings = Settings(data_dir=Path(data_dir), database_url="")
    app = build_application(settings)
    policy = SlaPolicy()
    jobs = 1
    before = _rss_kib()
    start = time.perf_counter()
    if what == "bare":
        events = sum(1 for _ in read_notifications(app, stop=stop))
    elif what == "rows":
        events = sum(1 for _ in log_rows(app, stop=stop))
    elif what == "audit1":
        counted = 0

        def count(n: int) -> None:
            nonlocal counted
            counted += n

        audit = Audit(policy, repeats=False)
        audit.feed(store_facts(app, stop=stop, progress=count))
        result = audit.finish()
        result.totals()
        events = counted
        result.close()
    else:
        events = app.recorder.max_notification_id() or 0
        jobs = jobs_for(events, None)
        result = audit_store(settings, policy, as_of=None, rows=RowFilter())
        result.totals()
        if what == "report":
            with open(os.devnull, "w") as sink:
                render(sink, result, policy, "csv")
        result.close()
    elapsed = time.perf_counter() - start
    peak = _status_kib("VmHWM:")
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = {
        "seconds": elapsed,
        "events": events,
        "jobs": jobs,
        "rss_before_kib": before,
        "rss_peak_kib": peak,
        "workers_peak_kib": workers_peak,
    }
    print(json.dumps(report))


def _check_templates(data_dir: Path, sample: int = 10_000) -> None:
    """The templated events decode like the application's own: the audit's store reader and
    the envelope mapping agree on a sample."""
    from services.ticket_service.sla.sources.store import reference_facts, store_facts

    app = build_application(Settings(data_dir=data_dir))

    def by_uuid(facts: Iterator[Fact | None]) -> list[Fact | None]:
        return [f._replace(ticket_id=UUID(str(f.ticket_id))) if f else None for f in facts]

    fast = by_uuid(store_facts(app, stop=sample))
    assert fast == by_uuid(reference_facts(app, stop=sample)), "templated events drifted"
    assert sum(f is not None for f in fast) > sample // 2
    app.close()


def _rss_kib() -> int:
    return _status_kib("VmRSS:")


def _status_kib(field: str) -> int:
    """A size from /proc/self/status. The peak is read as ``VmHWM`` rather than
    ``ru_maxrss``, which Linux carries over from the parent across fork and exec (the
    benchmark runner is large by the time this pass starts)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _measure(data_dir: Path, what: str, stop: int) -> dict[str, float]:
    root = Path(__file__).resolve().parent.parent
    code = f"from bench.bench_sla import _child; _child({str(data_dir)!r}, {what!r}, {stop})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-sla-") as tmp:
        data_dir = Path(tmp)
        generated = _generate(data_dir, EVENTS)
        print(f"   generated {EVENTS:,} events in {generated:.1f}s", flush=True)
        _check_templates(data_dir)
        # Alternate the passes (best of PASSES each) so load spikes hit all alike.
        runs: dict[str, list[dict[str, float]]] = {
            "bare": [],
            "audit": [],
            "audit1": [],
            "rows": [],
        }
        for _ in range(PASSES):
            for what in runs:
                runs[what].append(_measure(data_dir, what, EVENTS))
        report = _measure(data_dir, "report", EVENTS)
        small = _measure(data_dir, "audit1", SMALL)

    def rate(m: dict[str, float]) -> float:
        return m["events"] / m["seconds"]

    def growth(m: dict[str, float]) -> float:
        return (m["rss_peak_kib"] - m["rss_before_kib"]) / 1024

    bare_rate = max(rate(m) for m in runs["bare"])
    audit_rate = max(rate(m) for m in runs["audit"])
    single_rate = max(rate(m) for m in runs["audit1"])
    rows_rate = max(rate(m) for m in runs["rows"])
    assert all(m["events"] == EVENTS for m in runs["audit"] + runs["audit1"] + runs["bare"])
    jobs = int(runs["audit"][0]["jobs"])
    how = (
        f"SQLite file, {EVENTS // 7:,} tickets x 7 events written as templated stored events "
        f"({generated:.0f}s); each pass in a fresh process; best of {PASSES}"
    )
    parallel_peak = max(m["rss_peak_kib"] + m["workers_peak_kib"] for m in runs["audit"]) / 1024
    return [
        Row(
            "sla audit",
            f"audit replay, {EVENTS:,} events (store, {jobs} worker processes)",
            audit_rate,
            "events/s",
            "bare notification-log read (1 process)",
            bare_rate,
            ">= 0.8x",
            f"rows + totals, as `helpdesk sla audit` runs it (one worker per CPU, each reading "
            f"its partition of tickets); {how}",
        ),
        Row(
            "sla audit",
            f"audit replay, {EVENTS:,} events (store, 1 process: --jobs 1)",
            single_rate,
            "events/s",
            "bare notification-log read (1 process)",
            bare_rate,
            "",
            f"the same audit without workers; {how}",
        ),
        Row(
            "sla audit",
            f"audit replay, {EVENTS:,} events (store, 1 process: --jobs 1)",
            single_rate,
            "events/s",
            "the audit's own narrow row read",
            rows_rate,
            "",
            "what decoding (the application's transcoder) and clocks cost on top of reading: "
            "the audit reads SQLite rows "
            "without building Notification/UUID objects, which the bare read does",
        ),
        Row(
            "sla audit",
            f"audit + CSV report, {EVENTS:,} events",
            rate(report),
            "events/s",
            "bare notification-log read",
            bare_rate,
            "",
            f"{EVENTS // 7:,} rows written to /dev/null; one pass; {jobs} worker processes",
        ),
        Row(
            "sla audit",
            f"peak RSS growth, {EVENTS:,} events (1 process)",
            max(growth(m) for m in runs["audit1"]),
            "MiB",
            f"same, first {SMALL:,} events",
            growth(small),
            "flat (~1x)",
            "streaming: only active tickets in memory; closed rows spill to a temp SQLite "
            "file, whose page cache (capped at 2 MiB) is most of the step from 100k (with a "
            "64 KiB cache: 10.9 vs 11.9 MiB, 1.09x)",
        ),
        Row(
            "sla audit",
            f"peak RSS, {EVENTS:,} events ({jobs} worker processes)",
            parallel_peak,
            "MiB",
            "",
            None,
            "",
            "parent peak + largest worker's peak (each worker holds only its partition's "
            "active tickets)",
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
