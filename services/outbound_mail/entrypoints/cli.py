"""``helpdesk mail run | log | outbox list|show | suppression list|remove``."""

from __future__ import annotations

import sys

import typer

mail_app = typer.Typer(help="Outbound mail: notifications to requesters and CCs.")
outbox_app = typer.Typer(help="The Maildir notifications go to when no relay is set.")
mail_app.add_typer(outbox_app, name="outbox")
suppression_app = typer.Typer(
    help="Addresses never mailed: they sent auto-submitted, bulk or list mail."
)
mail_app.add_typer(suppression_app, name="suppression")


def register(app: typer.Typer) -> None:
    """Add this service's commands to the root ``helpdesk`` app."""
    app.add_typer(mail_app, name="mail")


@mail_app.command("run")
def run_command() -> None:
    """Consume the ticket events and send notifications until SIGTERM/SIGINT."""
    from services.outbound_mail.entrypoints.process import run
    from services.settings import Settings

    run(Settings())


@mail_app.command("log")
def log_command(
    status: str | None = typer.Option(None, help="pending, sent, failed or rate_limited"),
    limit: int = typer.Option(100, help="At most this many rows"),
) -> None:
    """The sent log: one line per (event, recipient) with its status and reason."""
    from services.outbound_mail.bootstrap import build_store
    from services.settings import get_settings

    store = build_store(get_settings())
    try:
        for row in store.entries(status, limit):
            reason = f"  {row['reason']}" if row["reason"] else ""
            typer.echo(
                f"#{row['ticket_number']:<6} {row['status']:<12} {row['kind']:<15} "
                f"{row['recipient']:<32} {row['message_id']}{reason}"
            )
    finally:
        store.close()


@outbox_app.command("list")
def outbox_list() -> None:
    """One line per message in the outbox: key, recipient, subject."""
    from services.outbound_mail.adapters.maildir_outbox import MaildirOutbox
    from services.outbound_mail.bootstrap import outbox_dir
    from services.settings import get_settings

    outbox = MaildirOutbox(outbox_dir(get_settings()))
    for entry in outbox.entries():
        typer.echo(f"{entry.key}  {entry.recipient:<32} {entry.subject}")


@outbox_app.command("show")
def outbox_show(key: str = typer.Argument(..., help="A key from `list`, or a Message-ID")) -> None:
    """The message as written (headers and both parts)."""
    from services.outbound_mail.adapters.maildir_outbox import MaildirOutbox
    from services.outbound_mail.bootstrap import outbox_dir
    from services.settings import get_settings

    outbox = MaildirOutbox(outbox_dir(get_settings()))
    try:
        raw = outbox.raw(key)
    except KeyError:
        typer.echo(f"no message {key} in {outbox.directory}", err=True)
        raise typer.Exit(1) from None
    sys.stdout.write(raw.decode(errors="replace"))


@suppression_app.command("list")
def suppression_list() -> None:
    """One line per suppressed address: when, and the reason email ingest saw."""
    from services.mail_suppression import suppression_for
    from services.settings import get_settings

    suppression = suppression_for(get_settings())
    try:
        for address, reason, at in suppression.entries():
            typer.echo(f"{at}  {address:<40} {reason}")
    finally:
        suppression.close()


@suppression_app.command("remove")
def suppression_remove(
    address: str = typer.Argument(..., help="The address to mail again"),
) -> None:
    """Take an address off the list: it gets notifications again."""
    from services.mail_suppression import suppression_for
    from services.settings import get_settings

    suppression = suppression_for(get_settings())
    try:
        suppression.remove(address)
    finally:
        suppression.close()
    typer.echo(f"{address.strip().lower()} removed")
