"""``helpdesk`` sub-commands of this service."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Ticket service: HTTP API, relay, command intake, tokens, replay, audit.",
    no_args_is_help=True,
)
