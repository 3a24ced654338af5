"""``helpdesk email serve | ingest FILE... | quarantine list | quarantine retry``."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from services.settings import get_settings

email_app = typer.Typer(help="Email ingest: SMTP server, file import, quarantine.")
quarantine_app = typer.Typer(help="Mail that could not be parsed or routed, kept whole.")
email_app.add_typer(quarantine_app, name="quarantine")


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
