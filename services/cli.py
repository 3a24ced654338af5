"""The ``helpdesk`` command: one typer app; each service contributes its own sub-commands."""

from __future__ import annotations

import typer

from services.closer_worker.entrypoints.cli import app as closer_app
from services.email_ingest.entrypoints.cli import app as email_app
from services.ticket_service.entrypoints.cli import app as ticket_app

app = typer.Typer(
    help="Helpdesk ticket lifecycle: services and operator tools.", no_args_is_help=True
)
app.add_typer(ticket_app, name="tickets")
app.add_typer(closer_app, name="closer")
app.add_typer(email_app, name="email")


@app.callback()
def main() -> None:
    """Helpdesk ticket lifecycle."""


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("helpdesk"))


if __name__ == "__main__":
    app()
