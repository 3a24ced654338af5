"""``helpdesk`` sub-commands of this service."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this service's commands and command groups to the root ``helpdesk`` app."""
