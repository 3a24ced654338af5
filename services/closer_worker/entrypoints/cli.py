"""``helpdesk`` sub-commands of this service."""

from __future__ import annotations

import typer

app = typer.Typer(help="Closer worker: auto-close timers.", no_args_is_help=True)
