"""``helpdesk webhooks run | list | log | audit``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

webhooks_app = typer.Typer(help="Webhooks: signed deliveries of the ticket events.")


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")


def _at(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@webhooks_app.command("run")
def run_command() -> None:
    """Consume the ticket events and deliver them until SIGTERM/SIGINT."""
    from services.settings import Settings
    from services.webhooks.entrypoints.process import run

    run(Settings())


@webhooks_app.command("list")
def list_command() -> None:
    """One line per subscription (never its secret)."""
    from services.settings import get_settings
    from services.webhooks.bootstrap import build_store

    store = build_store(get_settings())
    try:
        for w in store.webhooks():
            state = "active" if w.active else f"disabled ({w.disabled_reason or 'by a user'})"
            types = ",".join(w.event_types) or "*"
            typer.echo(f"{w.id}  {state:<12} {w.url}  {types}")
    finally:
        store.close()


@webhooks_app.command("log")
def log_command(
    webhook_id: str = typer.Argument(..., help="The webhook's id"),
    status: str | None = typer.Option(None, help="pending, delivered or failed"),
    limit: int = typer.Option(50, help="At most this many deliveries"),
) -> None:
    """The delivery log of one webhook, newest first, with every attempt."""
    from services.settings import get_settings
    from services.webhooks.bootstrap import build_store

    store = build_store(get_settings())
    try:
        rows, _ = store.deliveries(webhook_id, status=status, limit=limit)
        for row in rows:
            typer.echo(f"{row.id}  {row.status:<10} {row.type:<26} {_at(row.created_at)}")
            for a in row.attempts:
                outcome = a["status"] if a["status"] is not None else a["error"]
                typer.echo(f"    #{a['n']} {_at(a['at'])} {outcome} {a['duration']:.3f}s")
    finally:
        store.close()


@webhooks_app.command("audit")
def audit_command(
    webhook_id: str | None = typer.Argument(None, help="Only this webhook"),
) -> None:
    """Who changed which subscription, and how (JSON lines; secrets never appear)."""
    from services.settings import get_settings
    from services.webhooks.bootstrap import build_store

    store = build_store(get_settings())
    try:
        for entry in store.audit(webhook_id):
            typer.echo(json.dumps({**entry, "at": _at(entry["at"])}))
    finally:
        store.close()
