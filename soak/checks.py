"""The end-of-run checks. Each returns :class:`Finding` lists: ``lost`` (an effect that
should exist and does not), ``duplicated`` (an effect that exists more than once) and
``other`` (an early close, a version out of order, the SLA reports differing, …).

Every check reads what the system holds (the store, the topic, outbound mail's sent log,
the SMTP and webhook receivers), never what the services said about themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.outbound_mail.domain.notifications import message_id
from services.webhooks.domain.types import EVENT_TO_TYPE
from soak.ledger import MARKER, Command
from soak.observed import SentMail, StoredEvent
from tests.fixtures.webhook_receiver import Received


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    excused: list[str] = field(default_factory=list)
    """Lost with the memory-only broker (an acknowledged command it had not delivered yet):
    reported, not counted as lost."""

    def extend(self, more: Findings) -> None:
        self.lost += more.lost
        self.duplicated += more.duplicated
        self.other += more.other
        self.excused += more.excused


def _markers(values: Iterable[Any]) -> set[str]:
    return {m for value in values if value for m in MARKER.findall(str(value))}


def _effects(events: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """marker → effect kind → how many events carry it."""
    effects: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        data = event.get("data") or {}
        kind = event["event_type"]
        if kind == "TicketCreated":
            found = _markers([data.get("subject")])
            for marker in _markers([data.get("description")]) - found:
                effects[marker]["NewTicketFromReply"] += 1  # a reply that missed its ticket
        elif kind == "FollowUpCreated":
            found = _markers([data.get("description"), data.get("source_key")])
        elif kind == "CommentAdded":
            found = _markers([data.get("body")])
        elif kind == "TicketUpdated":
            found = _markers((data.get("changes") or {}).get("tags") or [])
        else:
            continue
        for marker in found:
            effects[marker][kind] += 1
    return effects


def missed_replies(events: list[StoredEvent]) -> int:
    """Mailed replies that opened a new ticket instead of joining theirs (email ingest's
    index had not yet learnt the ticket): one effect, so not lost, but worth counting."""
    effects = _effects([e.envelope for e in events])
    return sum(1 for counted in effects.values() if counted["NewTicketFromReply"])


def _solves(events: list[dict[str, Any]]) -> Counter[int]:
    """Ticket number → solves by an agent (the HTTP clients' solves)."""
    solves: Counter[int] = Counter()
    for event in events:
        data = event.get("data") or {}
        if (
            event["event_type"] == "StatusChanged"
            and data.get("to_status") == "solved"
            and (data.get("changed_by") or {}).get("role") == "agent"
        ):
            solves[int(event["ticket_number"])] += 1
    return solves


WHAT_COUNTS = {
    "create": ("TicketCreated",),
    "comment": ("CommentAdded", "FollowUpCreated"),
    "reply": ("CommentAdded", "FollowUpCreated", "NewTicketFromReply"),
    "update": ("TicketUpdated",),
}


INTAKE_GRACE = 5.0
"""Seconds the intake may take to apply a command it can consume."""


def check_commands(
    commands: list[Command],
    events: list[StoredEvent],
    broker_kills: list[float],
    intake_down: list[tuple[float, float]],
    held: dict[str, str],
    seen_on_topic: dict[str, float],
) -> Findings:
    """Every acknowledged command has its effect exactly once; an unacknowledged one at most
    once; a refused one never. ``held``: mail still in quarantine or suspended (marker →
    why), which is lost too when it was acknowledged.

    A command the broker acknowledged is excused (reported, not counted) when the broker
    was killed before the intake could have applied it: within ``INTAKE_GRACE`` seconds of
    its acknowledgement, or while the worker (the intake) was down in between."""
    findings = Findings()
    envelopes = [e.envelope for e in events]
    effects, solves = _effects(envelopes), _solves(envelopes)
    for command in commands:
        if command.kind == "solve":
            count = solves[command.ticket_number or 0]
        else:
            counted = effects.get(command.marker, Counter())
            count = sum(counted[k] for k in WHAT_COUNTS[command.kind])
        what = f"{command.channel} {command.kind} {command.marker} (#{command.ticket_number})"
        if count > 1:
            findings.duplicated.append(f"{what}: {count} effects")
        elif command.refused is not None and count:
            findings.other.append(f"{what}: refused ({command.refused}) but applied")
        elif command.acked and count == 0 and command.refused is None:
            acked_at = command.acked_at or 0.0
            kill = min((k for k in broker_kills if k > acked_at), default=None)
            witness = ""
            if command.channel != "http":
                seen = seen_on_topic.get(command.marker)
                witness = (
                    " (never seen on the commands topic)"
                    if seen is None
                    else f" (seen on the commands topic {seen - acked_at:.1f} s after its ack)"
                )
                if command.offset:
                    witness += f" (acknowledged at partition/offset {command.offset})"
            if (
                command.channel != "http"
                and kill is not None
                and (
                    kill - acked_at <= INTAKE_GRACE
                    or any(start < kill and end > acked_at for start, end in intake_down)
                )
            ):
                findings.excused.append(
                    f"{what}: acknowledged {kill - acked_at:.1f} s before the broker was "
                    f"killed{witness}"
                )
            else:
                where = f" (still held: {held[command.marker]})" if command.marker in held else ""
                if kill is not None:
                    where += f", {kill - acked_at:.1f} s before a broker kill"
                findings.lost.append(f"{what}: acknowledged, no effect{where}{witness}")
    return findings


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def check_closes(events: list[StoredEvent], settled_at: datetime, grace: float) -> Findings:
    """Every ticket solved long enough ago is closed exactly once, none before its due time,
    and only for the solve that still stands."""
    findings = Findings()
    by_ticket: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event.envelope.get("version") is not None:
            by_ticket[event.envelope["ticket_id"]].append(event.envelope)
    for stream in by_ticket.values():
        stream.sort(key=lambda e: int(e["version"]))
        solve: tuple[int, datetime] | None = None
        closes = 0
        for step in stream:
            data = step.get("data") or {}
            kind = step["event_type"]
            number = step.get("ticket_number")
            starts_solved = kind in ("TicketCreated", "FollowUpCreated") and data.get("solve_id")
            if (kind == "StatusChanged" and data.get("to_status") == "solved") or starts_solved:
                solve = (int(data["solve_id"]), _at(data["auto_close_due_at"]))
            elif kind == "StatusChanged":
                solve = None
            elif kind == "TicketClosed":
                closes += 1
                at = _at(step["occurred_at"])
                if data.get("closed_by") == "automation":
                    if solve is None or solve[0] != data.get("solve_id"):
                        findings.other.append(f"#{number}: closed for a solve that is gone")
                    elif at < solve[1]:
                        findings.other.append(f"#{number}: closed at {at}, due {solve[1]}")
                solve = None
        if closes > 1:
            findings.duplicated.append(f"#{number}: closed {closes} times")
        if solve is not None and (settled_at - solve[1]).total_seconds() > grace:
            findings.lost.append(f"#{number}: solved, due {solve[1]}, never closed")
    return findings


def check_follow_ups(events: list[StoredEvent]) -> Findings:
    findings = Findings()
    keys: Counter[tuple[str, str]] = Counter()
    for event in events:
        if event.envelope["event_type"] == "FollowUpCreated":
            data = event.envelope["data"]
            source = (data.get("follow_up_of") or {}).get("ticket_id")
            keys[(str(source), str(data.get("source_key")))] += 1
    for (source, key), count in keys.items():
        if count > 1:
            findings.duplicated.append(f"follow-up of {source} for {key}: {count}")
    return findings


def check_topic(
    events: list[StoredEvent], topic: list[dict[str, Any]], since_notification: int = 0
) -> Findings:
    """The topic holds every stored event published after ``since_notification`` (0: the
    whole history), each ticket's events in version order (duplicates of at-least-once
    publication skipped)."""
    findings = Findings()
    seen: set[str] = set()
    last: dict[str, int] = {}
    for record in topic:
        event_id = str(record["event_id"])
        if event_id in seen:
            continue
        seen.add(event_id)
        version = record.get("version")
        if version is None:
            continue
        ticket = str(record["ticket_id"])
        if ticket in last and int(version) <= last[ticket]:
            findings.other.append(
                f"topic: {ticket} version {version} after {last[ticket]} ({record['event_type']})"
            )
        last[ticket] = max(int(version), last.get(ticket, 0))
    for event in events:
        if event.notification_id > since_notification and event.envelope["event_id"] not in seen:
            e = event.envelope
            findings.lost.append(
                f"topic: missing {e['event_type']} #{e.get('ticket_number')} v{e.get('version')}"
            )
    return findings


def check_mail(
    events: list[StoredEvent], log: list[SentMail], received: Counter[str], support: str
) -> Findings:
    """Each planned mail arrived (deduplicated by Message-ID) exactly once; every ticket's
    requester got its acknowledgement and, after an agent's solve, the solved mail."""
    findings = Findings()
    planned = {m.message_id for m in log}
    for mail in log:
        if mail.status != "sent" or not received[mail.message_id]:
            findings.lost.append(f"mail {mail.kind} to {mail.recipient}: {mail.status}")
    for mid in received:
        if mid not in planned:
            findings.duplicated.append(f"mail {mid}: received, not in the sent log")
    requesters: dict[str, tuple[str, int]] = {}
    for event in events:
        e = event.envelope
        data = e.get("data") or {}
        if e["event_type"] in ("TicketCreated", "FollowUpCreated"):
            requesters[e["ticket_id"]] = (data["requester"], int(data["number"]))
            expected = [("acknowledgement", e)]
        elif (
            e["event_type"] == "StatusChanged"
            and data.get("to_status") == "solved"
            and (data.get("changed_by") or {}).get("role") == "agent"
        ):
            expected = [("solved", e)]
        else:
            continue
        if e["ticket_id"] not in requesters:
            continue
        requester, number = requesters[e["ticket_id"]]
        for kind, source in expected:
            mid = message_id(str(source["event_id"]), requester, number, support)
            if not received[mid]:
                findings.lost.append(f"mail {kind} #{number} to {requester}: never arrived")
    return findings


def check_webhooks(events: list[StoredEvent], received: list[Received]) -> Findings:
    """Every stored event of a delivered type was accepted by the webhook receiver (which
    answers 2xx only to a verifying signature), under one ``webhook-id`` (the same on every
    attempt: a receiver dedupes by it), each ticket's in version order; nothing else
    arrived. A request refused for its signature is a violation."""
    findings = Findings()
    ids_by_event: dict[str, set[str]] = defaultdict(set)
    accepted: set[str] = set()
    last: dict[str, int] = {}
    for request in received:  # in the order they were answered
        if request.status == 401:
            findings.other.append(f"webhook {request.id}: the signature did not verify")
            continue
        if not 200 <= request.status < 300:
            continue
        event = (request.payload().get("data") or {}).get("event") or {}
        ids_by_event[str(event.get("event_id"))].add(request.id)
        if request.id in accepted:
            continue  # a retry of what arrived already: deduplicated by its webhook-id
        accepted.add(request.id)
        ticket, version = event.get("ticket_id"), event.get("version")
        if ticket is None or version is None:
            continue
        if ticket in last and int(version) <= last[ticket]:
            findings.other.append(f"webhook: {ticket} version {version} after {last[ticket]}")
        last[ticket] = max(int(version), last.get(ticket, 0))
    expected = {
        str(e.envelope["event_id"]): e.envelope
        for e in events
        if e.envelope["event_type"] in EVENT_TO_TYPE
    }
    for event_id, e in expected.items():
        ids = ids_by_event.get(event_id)
        what = f"{e['event_type']} #{e.get('ticket_number')} v{e.get('version')}"
        if not ids:
            findings.lost.append(f"webhook: {what} never arrived")
        elif len(ids) > 1:
            findings.duplicated.append(f"webhook: {what} arrived as {len(ids)} deliveries")
    for event_id in ids_by_event.keys() - expected.keys():
        findings.duplicated.append(f"webhook: event {event_id} arrived, not in the store")
    return findings


def compare_sla(store_report: str, kafka_report: str) -> Findings:
    findings = Findings()
    store_rows, kafka_rows = store_report.splitlines(), kafka_report.splitlines()
    if sorted(store_rows) != sorted(kafka_rows):
        only_store = set(store_rows) - set(kafka_rows)
        only_kafka = set(kafka_rows) - set(store_rows)
        findings.other.append(
            f"SLA audit: store {len(store_rows)} rows, kafka {len(kafka_rows)}; "
            f"{len(only_store)} only in the store, {len(only_kafka)} only from Kafka"
        )
    elif not store_rows:
        findings.other.append("SLA audit: empty report")
    return findings
