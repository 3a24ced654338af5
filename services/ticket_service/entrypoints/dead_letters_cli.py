"""``helpdesk dead-letters list|show|retry|purge``: the dead letters kept in the ticket
store (they survive a broker restart; the topic is a copy)."""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated, Any
from uuid import UUID

import typer

dead_letters_app = typer.Typer(
    help="Commands the intake could not apply, kept in the ticket store.", no_args_is_help=True
)

StatusOption = Annotated[
    str | None, typer.Option("--status", help="pending or retried (default: both).")
]


def _store() -> Any:
    from services.settings import get_settings
    from services.ticket_service.adapters.dead_letter_store import DeadLetterStore
    from services.ticket_service.adapters.event_store import require_existing_store
    from services.ticket_service.bootstrap import build_application

    settings = get_settings()
    require_existing_store(settings)
    return DeadLetterStore(build_application(settings))


def _status(value: str | None) -> Any:
    if value not in (None, "pending", "retried"):
        raise typer.BadParameter("pending or retried", param_hint="--status")
    return value


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _as_json(kept: Any) -> dict[str, Any]:
    from services.ticket_service.adapters.http.schemas import DeadLetterOut

    return DeadLetterOut.of(kept).model_dump(mode="json")


@dead_letters_app.command("list")
def list_command(
    status: StatusOption = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List kept dead letters, oldest first."""
    rows = _store().oldest(status=_status(status), limit=limit)
    for kept in rows:
        if as_json:
            typer.echo(json.dumps(_as_json(kept), separators=(",", ":")))
            continue
        letter = kept.letter
        typer.echo(
            f"{letter.dead_letter_id}  {letter.dead_lettered_at:%Y-%m-%dT%H:%M:%SZ}  "
            f"{kept.status:<8} {letter.reason:<13} "
            f"{letter.source_topic}/{letter.partition}@{letter.offset}  {letter.error[:80]}"
        )
    if not rows and not as_json:
        typer.echo("no dead letters")


@dead_letters_app.command("show")
def show_command(dead_letter_id: UUID) -> None:
    """One dead letter, whole (JSON), with the original value decoded when it is text."""
    import base64

    from services.operator_errors import OperatorError

    kept = _store().get(dead_letter_id)
    if kept is None:
        raise OperatorError(f"no dead letter {dead_letter_id}")
    shown = _as_json(kept)
    if kept.letter.value_b64 is not None:
        raw = base64.b64decode(kept.letter.value_b64)
        shown["value_text"] = raw.decode("utf-8", "replace")
    typer.echo(json.dumps(shown, indent=2))


@dead_letters_app.command("retry")
def retry_command(dead_letter_ids: list[UUID]) -> None:
    """Republish each dead letter's original command to the commands topic and mark it
    retried (needs the broker: HELPDESK_KAFKA_BOOTSTRAP, or the stack's stack.json)."""
    from services.operator_errors import OperatorError
    from services.settings import get_settings
    from services.ticket_service.adapters.kafka.dead_letter_retry import (
        DeadLetterNotFound,
        retry_dead_letter,
    )

    store, settings = _store(), get_settings()
    for dead_letter_id in dead_letter_ids:
        try:
            kept = asyncio.run(retry_dead_letter(store, settings, dead_letter_id, actor=_actor()))
        except DeadLetterNotFound:
            raise OperatorError(f"no dead letter {dead_letter_id}") from None
        typer.echo(f"{dead_letter_id} retried (retries: {kept.retries})")


@dead_letters_app.command("purge")
def purge_command(
    dead_letter_ids: Annotated[list[UUID] | None, typer.Argument()] = None,
    status: StatusOption = None,
    purge_all: Annotated[
        bool, typer.Option("--all", help="Every dead letter (of --status, if given).")
    ] = False,
) -> None:
    """Delete dead letters (the ids given, or --all [--status retried]); the purge is
    logged with who did it."""
    from services.ticket_service.adapters.kafka.dead_letter_retry import log_purge

    if not dead_letter_ids and not purge_all:
        raise typer.BadParameter("name dead letters, or pass --all")
    if dead_letter_ids and purge_all:
        raise typer.BadParameter("either dead letter ids or --all, not both")
    purged = _store().purge(dead_letter_ids or (), status=_status(status))
    from services.logging_setup import configure_logging

    configure_logging("cli")
    log_purge(purged, actor=_actor())
    typer.echo(f"purged {len(purged)} dead letter(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(dead_letters_app, name="dead-letters")
