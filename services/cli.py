"""The ``helpdesk`` command: one typer app; each service registers its own sub-commands
(``services/<service>/entrypoints/cli.py``)."""

from __future__ import annotations

import sys

import typer

from services.closer_worker.entrypoints import cli as closer_cli
from services.email_ingest.entrypoints import cli as email_cli
from services.local_stack import cli as stack_cli
from services.outbound_mail.entrypoints import cli as mail_cli
from services.ticket_service.entrypoints import cli as ticket_cli
from services.webhooks.entrypoints import cli as webhooks_cli

app = typer.Typer(
    help="Helpdesk ticket lifecycle: services and operator tools.", no_args_is_help=True
)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Helpdesk ticket lifecycle. Settings are HELPDESK_* environment variables; the local
    stack's addresses (HELPDESK_KAFKA_BOOTSTRAP, HELPDESK_REDIS_URL) are read from
    HELPDESK_DATA_DIR/stack.json (./var) when unset."""
    import logging

    # Library warnings (aiokafka's "Unable connect to …") would otherwise reach the terminal
    # through logging's last-resort handler beside the one-line error; the services replace
    # this with their JSON handler (services/logging_setup.py).
    logging.getLogger().addHandler(logging.NullHandler())
    if ctx.invoked_subcommand != "stack":  # the stack itself decides its addresses
        from services.settings import apply_stack_file

        apply_stack_file()


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as package_version

    typer.echo(package_version("helpdesk"))


for module in (ticket_cli, closer_cli, email_cli, mail_cli, webhooks_cli, stack_cli):
    module.register(app)


def main() -> None:
    """The ``helpdesk`` entry point: an operator's problem (a missing setting, a service
    that does not answer) is one line on standard error and exit status 2."""
    from services.operator_errors import one_line

    try:
        app(standalone_mode=True)
    except Exception as error:
        message = one_line(error)
        if message is None:
            raise
        print(f"helpdesk: error: {message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
