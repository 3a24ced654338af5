"""``helpdesk`` commands of the ticket service's Kafka side: ``tickets-worker``,
``events tail`` and ``asyncapi``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated

import typer

events_app = typer.Typer(help="The ticket event stream on Kafka.", no_args_is_help=True)


@events_app.command("tail")
def tail(
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest retained event.")
    ] = False,
    types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only this event type (repeatable), e.g. TicketClosed."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Keep waiting for new events.")
    ] = True,
) -> None:
    """Print ticket events, one JSON envelope per line."""
    from services.settings import get_settings
    from services.ticket_service.adapters.kafka.tail import tail_events

    settings = get_settings()
    if not settings.kafka_bootstrap:
        from services.operator_errors import MissingSetting

        raise MissingSetting("events tail", "HELPDESK_KAFKA_BOOTSTRAP")

    async def run() -> None:
        async for envelope in tail_events(
            settings.kafka_bootstrap or "",
            settings.topic_events,
            from_beginning=from_beginning,
            event_types=types or (),
            follow=follow,
        ):
            typer.echo(json.dumps(envelope, separators=(",", ":")))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def asyncapi() -> None:
    """Print the AsyncAPI document of the Kafka channels (``make asyncapi``)."""
    from services.ticket_service.adapters.kafka.asyncapi import asyncapi_yaml

    typer.echo(asyncapi_yaml(), nl=False)


def tickets_worker(
    relay: Annotated[
        bool, typer.Option("--relay/--no-relay", help="Publish the store's events.")
    ] = True,
    intake: Annotated[
        bool, typer.Option("--intake/--no-intake", help="Consume the commands topic.")
    ] = True,
) -> None:
    """Run the outbox relay and the command intake (needs HELPDESK_KAFKA_BOOTSTRAP)."""
    from services.ticket_service.entrypoints.worker import main

    main(relay=relay, intake=intake)


def register_kafka(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
    app.command("asyncapi")(asyncapi)
    app.command("tickets-worker")(tickets_worker)
