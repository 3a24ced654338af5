"""``helpdesk sla audit``: replay the history (store or Kafka) and print the SLA report."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from contracts.common import Priority
from services.settings import Settings
from services.ticket_service.sla.audit import Audit, AuditResult, RowFilter
from services.ticket_service.sla.calendar import to_micros
from services.ticket_service.sla.policy import PolicyError, SlaPolicy, load_policy
from services.ticket_service.sla.progress import replay_progress
from services.ticket_service.sla.render import render

sla_app = typer.Typer(help="SLA reports replayed from the event history.", no_args_is_help=True)


class Source(StrEnum):
    STORE = "store"
    KAFKA = "kafka"


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSONL = "jsonl"


def parse_instant(text: str) -> datetime:
    """ISO 8601; without an offset it is UTC; a bare date means the end of that day."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_day(text: str, param: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a YYYY-MM-DD date", param_hint=param) from None


def row_filter(
    created_from: str | None, created_to: str | None, priorities: list[Priority]
) -> RowFilter:
    start = parse_day(created_from, "--from") if created_from else None
    end = parse_day(created_to, "--to") if created_to else None
    midnight = time(tzinfo=UTC)
    return RowFilter(
        created_from=to_micros(datetime.combine(start, midnight)) if start else None,
        created_to=to_micros(datetime.combine(end + timedelta(days=1), midnight)) if end else None,
        priorities=frozenset(p.value for p in priorities),
    )


def audit_store(
    settings: Settings,
    policy: SlaPolicy,
    *,
    as_of: int | None,
    rows: RowFilter,
    jobs: int | None = None,
) -> AuditResult:
    """``jobs``: worker processes (None: one per CPU; long histories on SQLite or
    PostgreSQL only — see :mod:`services.ticket_service.sla.parallel`)."""
    from services.ticket_service.adapters.event_store import require_existing_store
    from services.ticket_service.bootstrap import build_application
    from services.ticket_service.sla.parallel import ParallelStoreAudit, jobs_for
    from services.ticket_service.sla.sources.store import narrow_reader_applies, store_facts

    require_existing_store(settings)
    app = build_application(settings)
    total = app.recorder.max_notification_id() or 0
    splittable = narrow_reader_applies(app)
    workers = jobs_for(total, jobs) if splittable else 1
    if workers > 1:
        app.close()
        with ParallelStoreAudit(settings, policy, as_of=as_of, rows=rows, jobs=workers) as run:
            with replay_progress("store", total) as advance:
                run.wait(advance)
            return run.finish()
    audit = Audit(policy, as_of=as_of, rows=rows, repeats=False)
    with replay_progress("store", total) as advance:
        audit.feed(store_facts(app, progress=advance))
    app.close()
    return audit.finish()


def audit_kafka(
    settings: Settings,
    policy: SlaPolicy,
    *,
    as_of: int | None,
    rows: RowFilter,
    jobs: int | None = None,
) -> AuditResult:
    """One consumer reads the whole topic (``jobs`` applies to store replays only)."""
    from aiokafka.errors import KafkaError

    from services.ticket_service.sla.sources.kafka import KafkaReadStats, kafka_facts

    if not settings.kafka_bootstrap:
        from services.operator_errors import MissingSetting

        raise MissingSetting("sla audit --source kafka", "HELPDESK_KAFKA_BOOTSTRAP")
    bootstrap = settings.kafka_bootstrap
    audit = Audit(policy, as_of=as_of, rows=rows)
    stats = KafkaReadStats()

    async def read() -> None:
        with replay_progress("kafka", None) as advance:
            async for fact in kafka_facts(
                bootstrap, settings.topic_events, progress=advance, stats=stats
            ):
                if fact is not None:
                    audit.add(fact)

    try:
        asyncio.run(read())
    except (LookupError, KafkaError) as error:
        typer.echo(f"cannot read {settings.topic_events} at {bootstrap}: {error}", err=True)
        raise typer.Exit(1) from None
    if stats.unreadable:
        typer.echo(f"skipped {stats.unreadable} unreadable messages", err=True)
    return audit.finish()


@sla_app.command("audit")
def audit_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Use only events up to this ISO 8601 time "
            "(default: the last event's time, not now).",
        ),
    ] = None,
    created_from: Annotated[
        str | None, typer.Option("--from", help="Tickets created on or after this date (UTC).")
    ] = None,
    created_to: Annotated[
        str | None, typer.Option("--to", help="Tickets created on or before this date (UTC).")
    ] = None,
    priority: Annotated[
        list[Priority] | None, typer.Option("--priority", help="Only this priority (repeatable).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    source: Annotated[
        Source, typer.Option("--source", help="store (database) or kafka (events topic).")
    ] = Source.STORE,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            envvar="HELPDESK_SLA_POLICY",
            help="SLA policy file (TOML or YAML); defaults when not given.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Worker processes for a store replay (default: one per CPU, fewer for "
            "short histories). The report is the same for any value.",
        ),
    ] = None,
) -> None:
    """One row per ticket (first reply, resolution, agent work, breaches) plus totals.
    The same history always prints the same bytes."""
    try:
        policy = load_policy(policy_file)
    except PolicyError as error:
        raise typer.BadParameter(str(error), param_hint="--policy") from None
    instant = to_micros(parse_instant(as_of)) if as_of else None
    rows = row_filter(created_from, created_to, priority or [])
    settings = Settings()
    run = audit_store if source == Source.STORE else audit_kafka
    result = run(settings, policy, as_of=instant, rows=rows, jobs=jobs)
    try:
        if output:
            with output.open("w", encoding="utf-8", newline="") as out:
                render(out, result, policy, fmt.value)
        else:
            _print(sys.stdout, result, policy, fmt)
    finally:
        result.close()


def _print(out: TextIO, result: AuditResult, policy: SlaPolicy, fmt: Format) -> None:
    render(out, result, policy, fmt.value, color=fmt == Format.TABLE and out.isatty())
