"""``helpdesk`` commands of the ticket service's Kafka side: ``tickets-worker``,
``events tail``, ``relay parked`` and ``asyncapi``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated

import typer

events_app = typer.Typer(help="The ticket event stream on Kafka.", no_args_is_help=True)
relay_app = typer.Typer(help="The outbox relay's bookkeeping.", no_args_is_help=True)


@relay_app.command("parked")
def parked(
    relay_name: Annotated[
        str | None,
        typer.Option("--relay-name", help="The relay's name (default: HELPDESK_RELAY_NAME)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the events the relay could not publish (too large for the producer or the
    broker) and parked in the store instead; exit status 1 when there are any."""
    from services.settings import get_settings
    from services.ticket_service.adapters.kafka.parked import ParkedStore
    from services.ticket_service.bootstrap import build_application

    settings = get_settings()
    app = build_application(settings)
    try:
        entries = ParkedStore(app, relay_name or settings.relay_name).list()
    finally:
        app.close()
    for entry in entries:
        if as_json:
            typer.echo(json.dumps(entry.as_dict(), separators=(",", ":")))
        else:
            typer.echo(
                f"{entry.parked_at.isoformat()}  {entry.event_type} {entry.event_id}  "
                f"ticket {entry.ticket_id} v{entry.version}  {entry.size} bytes  {entry.error}"
            )
    if not as_json:
        typer.echo(f"{len(entries)} parked event(s)", err=True)
    if entries:
        raise typer.Exit(1)


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
    app.add_typer(relay_app, name="relay")
    app.command("asyncapi")(asyncapi)
    app.command("tickets-worker")(tickets_worker)
