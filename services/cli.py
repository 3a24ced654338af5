"""The ``helpdesk`` command: one typer app; each service registers its own sub-commands
(``services/<service>/entrypoints/cli.py``)."""

from __future__ import annotations

import typer

from services.closer_worker.entrypoints import cli as closer_cli
from services.email_ingest.entrypoints import cli as email_cli
from services.local_stack import cli as stack_cli
from services.ticket_service.entrypoints import cli as ticket_cli

app = typer.Typer(
    help="Helpdesk ticket lifecycle: services and operator tools.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """Helpdesk ticket lifecycle."""


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("helpdesk"))


for module in (ticket_cli, closer_cli, email_cli, stack_cli):
    module.register(app)

if __name__ == "__main__":
    app()
