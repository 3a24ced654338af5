"""``helpdesk stack run``."""

from __future__ import annotations

import typer

stack_app = typer.Typer(help="The whole system on this machine (what `make run` starts).")


@stack_app.command("run")
def run() -> None:
    """Start the embedded broker and Redis (unless configured) and every service."""
    from services.local_stack.stack import run_stack
    from services.settings import get_settings

    run_stack(get_settings())


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
