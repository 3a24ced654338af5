"""``helpdesk stack run|env``."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

stack_app = typer.Typer(
    help="The whole system on this machine (what `make run` starts).", no_args_is_help=True
)


@stack_app.command("run")
def run() -> None:
    """Start the embedded broker and Redis (unless configured) and every service."""
    from services.local_stack.stack import run_stack
    from services.settings import Settings

    run_stack(Settings())


@stack_app.command("env")
def env() -> None:
    """Print `export HELPDESK_…=…` lines that reach the local stack (from stack.json in
    HELPDESK_DATA_DIR, ./var by default): eval "$(helpdesk stack env)"."""
    from services.operator_errors import OperatorError
    from services.settings import read_stack_env, stack_file

    path = stack_file()
    recorded = read_stack_env(path)
    if not recorded:
        raise OperatorError(
            f"no stack recorded at {path}: start one with `make run` "
            "(or set HELPDESK_DATA_DIR to its data directory)"
        )
    for name, value in recorded.items():
        typer.echo(f"export {name}={shlex.quote(value)}")
    if not _recorded_stack_running(path):
        typer.echo(f"# note: the stack recorded in {path} is not running now", err=True)


def _recorded_stack_running(path: Path) -> bool:
    import json
    import os

    try:
        recorded = json.loads(path.read_text())
        pid = int(recorded["pid"])
        if recorded.get("status") == "stopped":
            return False
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
