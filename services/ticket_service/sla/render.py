"""The audit report as a table (rich), CSV or JSON lines; the same history gives the same
bytes: rows in ticket-number order, durations as fixed-point seconds, times in UTC."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from rich.console import Console
from rich.table import Table

from services.ticket_service.sla.audit import PERCENTILES, AuditResult, MetricTotals, Totals
from services.ticket_service.sla.calendar import MICROS, from_micros
from services.ticket_service.sla.clock import TicketRow
from services.ticket_service.sla.policy import SlaPolicy

FORMATS = ("table", "csv", "jsonl")
TABLE_WIDTH = 160
"""Fixed, so the table does not depend on the terminal it is printed in."""

CSV_COLUMNS = (
    "number",
    "ticket_id",
    "follow_up_of",
    "priority",
    "status",
    "created_at",
    "first_reply_s",
    "first_reply_running",
    "first_reply_breached",
    "resolution_s",
    "resolution_running",
    "resolution_breached",
    "agent_work_s",
    "reopens",
)


def iso(micros: int) -> str:
    return from_micros(micros).isoformat().replace("+00:00", "Z")


def seconds(micros: int | None) -> str:
    """Fixed-point seconds with millisecond precision (truncated), or empty."""
    if micros is None:
        return ""
    whole, rest = divmod(micros, MICROS)
    return f"{whole}.{rest // 1000:03d}"


def clock_text(micros: int | None) -> str:
    """``2d 03:04:05`` for people."""
    if micros is None:
        return "-"
    total = micros // MICROS
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def rate(part: int, whole: int) -> str:
    """A percentage with two decimals, rounded half up in integer arithmetic."""
    if not whole:
        return "0.00%"
    hundredths = (part * 20000 + whole) // (2 * whole)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _csv_values(row: TicketRow) -> list[str]:
    return [
        str(row.number),
        str(row.ticket_id),
        "" if row.follow_up_of is None else str(row.follow_up_of),
        row.priority,
        row.status,
        iso(row.created_at),
        seconds(row.first_reply),
        _flag(row.first_reply_running),
        _flag(row.first_reply_breached),
        seconds(row.resolution),
        _flag(row.resolution_running),
        _flag(row.resolution_breached),
        seconds(row.agent_work),
        str(row.reopens),
    ]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _totals_items(totals: Totals) -> list[tuple[str, str]]:
    items = [("tickets", str(totals.tickets))]
    for name, metric in (
        ("first_reply", totals.first_reply),
        ("resolution", totals.resolution),
        ("agent_work", totals.agent_work),
    ):
        if name != "agent_work":
            items += [
                (f"{name}_breached", str(metric.breached)),
                (f"{name}_breach_rate", rate(metric.breached, totals.tickets)),
                (f"{name}_running", str(metric.running)),
            ]
        items.append((f"{name}_measured", str(metric.stopped)))
        items += [
            (f"{name}_p{p}_s", seconds(v))
            for p, v in zip(PERCENTILES, metric.percentiles, strict=True)
        ]
    return items


def header(result: AuditResult, policy: SlaPolicy) -> list[tuple[str, str]]:
    return [("as_of", iso(result.as_of)), ("policy", policy.describe())]


def write_csv(out: TextIO, result: AuditResult, policy: SlaPolicy) -> None:
    """Ticket rows, a blank line, then ``metric,value`` totals."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows():
        writer.writerow(_csv_values(row))
    out.write("\n")
    writer.writerow(("metric", "value"))
    writer.writerows(header(result, policy) + _totals_items(result.totals()))


def write_jsonl(out: TextIO, result: AuditResult, policy: SlaPolicy) -> None:
    """One ``{"type": "ticket", ...}`` object per line, then one ``{"type": "totals"}``."""
    numeric = {"first_reply_s", "resolution_s", "agent_work_s"}
    for row in result.rows():
        parts = ['"type":"ticket"']
        for name, text in zip(CSV_COLUMNS, _csv_values(row), strict=True):
            parts.append(f'"{name}":{_json_value(name, text, numeric)}')
        out.write("{" + ",".join(parts) + "}\n")
    parts = ['"type":"totals"']
    for name, text in header(result, policy) + _totals_items(result.totals()):
        parts.append(f'"{name}":{_json_value(name, text, numeric)}')
    out.write("{" + ",".join(parts) + "}\n")


def _json_value(name: str, text: str, numeric: set[str]) -> str:
    if text == "":
        return "null"
    if text in ("true", "false") or name in {"number", "follow_up_of", "reopens"}:
        return text
    if name in numeric or name.endswith("_s"):
        return text  # fixed-point seconds are valid JSON numbers
    if name in {"tickets"} or name.endswith(("_breached", "_running", "_measured")):
        return text
    return json.dumps(text, ensure_ascii=False)


def write_table(out: TextIO, result: AuditResult, policy: SlaPolicy, *, color: bool) -> None:
    console = Console(
        file=out,
        width=TABLE_WIDTH,
        color_system="auto" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
    )
    console.print(f"SLA audit as of {iso(result.as_of)}")
    console.print(f"Policy {policy.describe()}")
    table = Table(show_lines=False)
    for title, justify in (
        ("#", "right"),
        ("follow-up of", "right"),
        ("priority", "left"),
        ("status", "left"),
        ("created", "left"),
        ("first reply", "right"),
        ("resolution", "right"),
        ("agent work", "right"),
        ("reopens", "right"),
    ):
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in result.rows():
        table.add_row(*_table_cells(row))
    console.print(table)
    console.print(_totals_table(result.totals()))


def _table_cells(row: TicketRow) -> list[str]:
    def metric(value: int | None, running: bool, breached: bool) -> str:
        text = clock_text(value)
        if running:
            text += " (running)"
        return text + (" BREACH" if breached else "")

    return [
        str(row.number),
        "" if row.follow_up_of is None else f"#{row.follow_up_of}",
        row.priority,
        row.status,
        iso(row.created_at),
        metric(row.first_reply, row.first_reply_running, row.first_reply_breached),
        metric(row.resolution, row.resolution_running, row.resolution_breached),
        clock_text(row.agent_work),
        str(row.reopens),
    ]


def _totals_table(totals: Totals) -> Table:
    table = Table(title=f"Totals over {totals.tickets} tickets")
    titles = ("metric", "breached", "breach rate", "running", "measured")
    for title in (*titles, *(f"p{p}" for p in PERCENTILES)):
        table.add_column(title, justify="right" if title != "metric" else "left", no_wrap=True)

    def add(name: str, metric: MetricTotals, breaches: bool) -> None:
        table.add_row(
            name,
            str(metric.breached) if breaches else "-",
            rate(metric.breached, totals.tickets) if breaches else "-",
            str(metric.running) if breaches else "-",
            str(metric.stopped),
            *(clock_text(v) for v in metric.percentiles),
        )

    add("first reply", totals.first_reply, True)
    add("resolution", totals.resolution, True)
    add("agent work", totals.agent_work, False)
    return table


def render(
    out: TextIO, result: AuditResult, policy: SlaPolicy, fmt: str, *, color: bool = False
) -> None:
    if fmt == "csv":
        write_csv(out, result, policy)
    elif fmt == "jsonl":
        write_jsonl(out, result, policy)
    elif fmt == "table":
        write_table(out, result, policy, color=color)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
