"""The ``helpdesk`` command: one typer app; each service contributes its own sub-commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Helpdesk ticket lifecycle: services and operator tools.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("helpdesk"))


if __name__ == "__main__":
    app()
