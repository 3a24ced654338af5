"""``helpdesk`` sub-commands of this service."""

from __future__ import annotations

import json
from typing import Annotated

import typer

replay_app = typer.Typer(help="Rebuild derived state from the event log.", no_args_is_help=True)


def token(
    role: Annotated[
        str, typer.Option(help="agent, supervisor, admin, owner, requester, integration")
    ],
    email: Annotated[str | None, typer.Option(help="The caller's email.")] = None,
    sub: Annotated[str | None, typer.Option(help="Token subject (default: the email).")] = None,
    org: Annotated[str | None, typer.Option(help="Organization id.")] = None,
    org_wide: Annotated[
        bool, typer.Option("--org-wide", help="See the organization's tickets.")
    ] = False,
    ttl_hours: Annotated[
        float, typer.Option(help="Lifetime in hours (at most HELPDESK_JWT_MAX_LIFETIME).")
    ] = 12,
    kid: Annotated[
        str | None,
        typer.Option(help="Sign with this key of HELPDESK_JWT_SECRETS (default: the primary)."),
    ] = None,
) -> None:
    """Mint a Bearer token (HS256) with HELPDESK_JWT_SECRET, or, when that is unset, with the
    local stack's secret of HELPDESK_DATA_DIR."""
    from datetime import timedelta

    from services.local_jwt_secret import primary_secret
    from services.settings import BUILTIN_JWT_SECRETS, get_settings
    from services.ticket_service.adapters.http.auth import TOKEN_ROLES, mint_token

    settings = get_settings()
    if role not in {r.value for r in TOKEN_ROLES}:
        raise typer.BadParameter(f"unknown role {role!r}", param_hint="--role")
    ttl = timedelta(hours=ttl_hours)
    if not timedelta(0) < ttl <= settings.jwt_max_lifetime:
        raise typer.BadParameter(
            f"must be positive and at most {settings.jwt_max_lifetime} (HELPDESK_JWT_MAX_LIFETIME)",
            param_hint="--ttl-hours",
        )
    if kid is not None:
        secret = settings.jwt_secrets.get(kid)
        if secret is None:
            raise typer.BadParameter(f"no key {kid!r} in HELPDESK_JWT_SECRETS", param_hint="--kid")
    else:
        secret = primary_secret(settings)
    if secret in BUILTIN_JWT_SECRETS:
        typer.echo(
            "No JWT secret: set HELPDESK_JWT_SECRET to the ticket service's secret, or point "
            f"HELPDESK_DATA_DIR at a local stack's data directory ({settings.data_dir} has "
            "no jwt-secret; `helpdesk stack run` makes one).",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(
        mint_token(
            secret,
            role=role,
            email=email,
            sub=sub,
            org=org,
            org_wide=org_wide,
            ttl=ttl,
            kid=kid,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )


def tickets_http(
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP APIs (agent, integration, help center) on HELPDESK_HTTP_HOST:PORT."""
    from services.ticket_service.entrypoints.http import main

    main(workers=workers)


def openapi() -> None:
    """Print the HTTP API's OpenAPI document (``make openapi`` writes docs/openapi.json)."""
    from services.ticket_service.adapters.http.app import openapi_json

    typer.echo(openapi_json(), nl=False)


@replay_app.command("projections")
def replay_projections(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; keep the views.")
    ] = False,
) -> None:
    """Rebuild every read model (views, follow-up links) from the event log and report
    which tickets differed from the incrementally maintained views."""
    from services.ticket_service.adapters.read_models.projector import TicketViews
    from services.ticket_service.bootstrap import build_application

    report = TicketViews(build_application()).rebuild(dry_run=dry_run)
    typer.echo(
        json.dumps(
            {
                "position": report.position,
                "tickets": report.tickets,
                "added": report.added,
                "removed": report.removed,
                "changed": report.changed,
                "unchanged": report.unchanged,
                "dry_run": dry_run,
            }
        )
    )


def register_sla(app: typer.Typer) -> None:
    """``helpdesk sla audit``: SLA reports replayed from the store or the events topic."""
    from services.ticket_service.sla.command import sla_app

    app.add_typer(sla_app, name="sla")


def register(app: typer.Typer) -> None:
    """Add this service's commands and command groups to the root ``helpdesk`` app."""
    register_sla(app)
    app.command("token")(token)
    app.command("tickets-http")(tickets_http)
    app.command("openapi")(openapi)
    app.add_typer(replay_app, name="replay")
    from services.ticket_service.entrypoints.kafka_cli import register_kafka

    register_kafka(app)
    from services.ticket_service.entrypoints.dead_letters_cli import register as register_dlq

    register_dlq(app)
