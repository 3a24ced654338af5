"""``helpdesk email serve | ingest FILE... | quarantine list|retry |
suspended list|show|release|reject``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from services.settings import get_settings

email_app = typer.Typer(help="Email ingest: SMTP server, file import, quarantine.")
quarantine_app = typer.Typer(help="Mail that could not be parsed or routed, kept whole.")
email_app.add_typer(quarantine_app, name="quarantine")
suspended_app = typer.Typer(
    help="Mail held back because its sender is not proven: release or reject it."
)
email_app.add_typer(suspended_app, name="suspended")


def register(app: typer.Typer) -> None:
    """Add this service's commands and command groups to the root ``helpdesk`` app."""
    app.add_typer(email_app, name="email")


def _logging() -> None:
    from services.logging_setup import configure_logging

    configure_logging("email-ingest")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command


@email_app.command()
def serve() -> None:
    """Run the SMTP server (HELPDESK_SMTP_HOST/PORT) until interrupted."""
    from services.email_ingest.entrypoints.main import serve_forever

    _logging()
    settings = get_settings()
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.http_host)
    asyncio.run(serve_forever(settings))


@email_app.command()
def ingest(
    files: list[Path] = typer.Argument(..., help=".eml files, mbox files or Maildir dirs"),
) -> None:
    """Hand on mail delivered as files, as if it came over SMTP."""
    from services.email_ingest.entrypoints.main import ingest_files

    _logging()
    failed = asyncio.run(ingest_files(get_settings(), files, echo=typer.echo))
    raise typer.Exit(1 if failed else 0)


@quarantine_app.command("list")
def quarantine_list() -> None:
    """Show quarantined messages with their reason."""
    from services.email_ingest.bootstrap import quarantine_for

    entries = quarantine_for(get_settings()).list()
    for q in entries:
        typer.echo(
            f"{q.id}  {q.received_at:%Y-%m-%d %H:%M:%S}  {q.size:>9}B  tries={q.attempts}  "
            f"{q.reason}: {q.detail}  | {q.sender} | {q.subject}"
        )
    typer.echo(f"{len(entries)} message(s) in quarantine")


@quarantine_app.command("retry")
def quarantine_retry(
    ids: list[str] = typer.Argument(None, help="Quarantine ids (default: all)"),
    max_bytes: int | None = typer.Option(None, help="Size limit for this retry"),
) -> None:
    """Ingest quarantined messages again; those handed on leave the quarantine."""
    from services.email_ingest.entrypoints.main import retry_quarantined

    _logging()
    failed = asyncio.run(
        retry_quarantined(get_settings(), ids or None, max_bytes=max_bytes, echo=typer.echo)
    )
    raise typer.Exit(1 if failed else 0)


def _admin(by: str | None) -> str:
    import getpass

    return by or f"cli:{getpass.getuser()}"


@suspended_app.command("list")
def suspended_list() -> None:
    """Show suspended messages with their reason and the ticket they would act on."""
    from services.email_ingest.bootstrap import suspended_for

    entries = suspended_for(get_settings()).list()
    for s in entries:
        ticket = f"#{s.ticket_number}" if s.ticket_number else "-"
        typer.echo(
            f"{s.id}  {s.received_at:%Y-%m-%d %H:%M:%S}  {s.size:>9}B  {ticket:>6}  "
            f"{s.reason}: {s.detail}  | {s.sender} | {s.subject}"
        )
    typer.echo(f"{len(entries)} message(s) suspended")


@suspended_app.command("show")
def suspended_show(
    id: str = typer.Argument(..., help="Suspended message id"),
    raw: bool = typer.Option(False, "--raw", help="Print the message as received"),
) -> None:
    """One suspended message: why, from whom, to which ticket; --raw prints its bytes."""
    import sys

    from services.email_ingest.application.ports import SuspendedNotFound
    from services.email_ingest.bootstrap import suspended_for

    queue = suspended_for(get_settings())
    try:
        entry = queue.get(id)
        if raw:
            sys.stdout.buffer.write(queue.raw(id))
            return
    except SuspendedNotFound:
        done = queue.audit(id)
        if done:
            typer.echo(f"{id}: {done[-1].action} by {done[-1].by} at {done[-1].at}")
        else:
            typer.echo(f"{id}: no such suspended message", err=True)
        raise typer.Exit(1) from None
    for name in ("id", "reason", "detail", "received_at", "size", "message_id", "sender"):
        typer.echo(f"{name}: {getattr(entry, name)}")
    typer.echo(f"subject: {entry.subject}")
    typer.echo(f"ticket: {entry.ticket_number}")
    typer.echo(f"envelope: {entry.mail_from} -> {', '.join(entry.recipients)}")


@suspended_app.command("release")
def suspended_release(
    ids: list[str] = typer.Argument(..., help="Suspended message ids"),
    by: str | None = typer.Option(None, help="Who releases (for the audit record)"),
) -> None:
    """Process suspended messages once, as if authenticated; they leave the queue."""
    from services.email_ingest.entrypoints.main import release_suspended

    _logging()
    failed = asyncio.run(release_suspended(get_settings(), ids, by=_admin(by), echo=typer.echo))
    raise typer.Exit(1 if failed else 0)


@suspended_app.command("reject")
def suspended_reject(
    ids: list[str] = typer.Argument(..., help="Suspended message ids"),
    by: str | None = typer.Option(None, help="Who rejects (for the audit record)"),
) -> None:
    """Delete suspended messages, leaving an audit record; no ticket is touched."""
    from services.email_ingest.adapters import metrics
    from services.email_ingest.application.ports import SuspendedNotFound
    from services.email_ingest.application.suspension import AlreadyHandled, reject
    from services.email_ingest.bootstrap import suspended_for

    queue = suspended_for(get_settings())
    failed = 0
    for sid in ids:
        try:
            reject(queue, sid, by=_admin(by), count=metrics.count_suspended_action)
            typer.echo(f"{sid}: rejected")
        except AlreadyHandled as error:
            typer.echo(f"{sid}: already {error.record.action} by {error.record.by}")
        except SuspendedNotFound:
            failed += 1
            typer.echo(f"{sid}: no such suspended message")
    raise typer.Exit(1 if failed else 0)
