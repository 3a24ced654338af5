"""``helpdesk`` sub-commands of this service: ``helpdesk closer run|rebuild|status``."""

from __future__ import annotations

import asyncio

import typer


def register(app: typer.Typer) -> None:
    """Add this service's commands and command groups to the root ``helpdesk`` app."""
    closer = typer.Typer(help="The auto-close worker (Redis timers).", no_args_is_help=True)

    @closer.command("run")
    def run_command() -> None:
        """Run a closer worker until SIGTERM/SIGINT."""
        from services.closer_worker.entrypoints.process import run
        from services.settings import Settings

        run(Settings())

    @closer.command("rebuild")
    def rebuild_command() -> None:
        """Re-derive the pending timers from the ticket-events history (lost Redis)."""
        from services.closer_worker.entrypoints.process import rebuild_once
        from services.settings import Settings

        typer.echo(asyncio.run(rebuild_once(Settings())))

    @closer.command("status")
    def status_command() -> None:
        """Pending timers and whether the store holds a completed rebuild."""
        from services.closer_worker.entrypoints.process import status
        from services.settings import Settings

        typer.echo(asyncio.run(status(Settings())))

    app.add_typer(closer, name="closer")
