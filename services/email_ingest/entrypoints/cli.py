"""``helpdesk`` sub-commands of this service."""

from __future__ import annotations

import typer

app = typer.Typer(help="Email ingest: SMTP server, file import, quarantine.", no_args_is_help=True)
