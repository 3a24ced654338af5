"""Webhook management API: ``/api/v1/webhooks`` (admins, owners and integrations). The
subscriptions, their delivery log and the audit of their changes live in the webhook
service's store (``services/webhooks``); this router is given it by the bootstrap. A
secret appears only in the answers to create and rotate-secret."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from services.ticket_service.adapters.http import schemas
from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.http.deps import AuthorizedClaims, services_of
from services.ticket_service.adapters.http.json_body import JSONRoute
from services.ticket_service.adapters.http.problems import ProblemError, documented
from services.webhooks.application.management import (
    ROTATION_OVERLAP_SECONDS,
    InvalidSubscription,
    Management,
    check_event_types,
    check_url,
)
from services.webhooks.application.ports import DeliveryRow, Webhook

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=JSONRoute)

WebhookId = Annotated[str, Path(max_length=64, description="The webhook's id.")]
DeliveryId = Annotated[str, Path(max_length=64, description="The delivery's webhook-id.")]


def _management(request: Request) -> Management:
    management = services_of(request).webhooks
    if management is None:
        raise ProblemError(503, "webhooks_unavailable", "The webhook store is not configured.")
    return management


def _actor(claims: Claims) -> str:
    return f"{claims.role.value}:{claims.email or claims.sub}"


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _not_found(webhook_id: str) -> ProblemError:
    return ProblemError(404, "webhook_not_found", f"No webhook {webhook_id}.")


def _invalid(error: InvalidSubscription) -> ProblemError:
    return ProblemError(422, "invalid_webhook", str(error))


def present(webhook: Webhook) -> schemas.WebhookOut:
    return schemas.WebhookOut(
        id=webhook.id,
        url=webhook.url,
        event_types=list(webhook.event_types),
        description=webhook.description,
        active=webhook.active,
        disabled_reason=webhook.disabled_reason,
        created_at=_at(webhook.created_at),
        updated_at=_at(webhook.updated_at),
    )


def present_delivery(row: DeliveryRow) -> schemas.WebhookDelivery:
    return schemas.WebhookDelivery(
        id=row.id,
        type=row.type,
        status=row.status,
        created_at=_at(row.created_at),
        next_attempt_at=_at(row.next_attempt_at) if row.next_attempt_at else None,
        attempts=[
            schemas.WebhookAttempt(
                at=_at(a["at"]),
                status=a["status"],
                duration_ms=round(a["duration"] * 1000, 3),
                error=a["error"],
                next_attempt_at=_at(a["next_attempt_at"]) if a["next_attempt_at"] else None,
                response=a["response"],
            )
            for a in row.attempts
        ],
    )


async def _checked(management: Management, url: str | None, types: list[str] | None) -> None:
    try:
        if url is not None:
            await check_url(url, management.rules, management.resolve)
        if types is not None:
            check_event_types(types)
    except InvalidSubscription as error:
        raise _invalid(error) from None


@router.post(
    "",
    name="create_webhook",
    status_code=201,
    response_model=schemas.WebhookCreated,
    responses=documented(401, 403, 422),
)
async def create_webhook(
    body: schemas.WebhookIn, request: Request, response: Response, claims: AuthorizedClaims
) -> schemas.WebhookCreated:
    """Subscribe an endpoint; the answer carries the signing secret, shown only here. 422
    when the URL is not https (unless allowed) or resolves to a loopback, private,
    link-local, multicast or metadata address (unless its host is allowed)."""
    management = _management(request)
    await _checked(management, body.url, list(body.event_types))
    webhook, secret = await run_in_threadpool(
        management.store.create_webhook,
        body.url,
        list(body.event_types),
        body.description,
        _actor(claims),
    )
    response.headers["Location"] = f"/api/v1/webhooks/{webhook.id}"
    return schemas.WebhookCreated(**present(webhook).model_dump(), secret=secret)


@router.get(
    "", name="list_webhooks", response_model=schemas.WebhookList, responses=documented(401, 403)
)
async def list_webhooks(request: Request, claims: AuthorizedClaims) -> schemas.WebhookList:
    """Every subscription (never a secret)."""
    found = await run_in_threadpool(_management(request).store.webhooks)
    return schemas.WebhookList(webhooks=[present(w) for w in found])


async def _webhook(request: Request, webhook_id: str) -> Webhook:
    found = await run_in_threadpool(_management(request).store.webhook, webhook_id)
    if found is None:
        raise _not_found(webhook_id)
    return found


@router.get(
    "/{webhook_id}",
    name="get_webhook",
    response_model=schemas.WebhookOut,
    responses=documented(401, 403, 404, 422),
)
async def get_webhook(
    webhook_id: WebhookId, request: Request, claims: AuthorizedClaims
) -> schemas.WebhookOut:
    return present(await _webhook(request, webhook_id))


@router.patch(
    "/{webhook_id}",
    name="update_webhook",
    response_model=schemas.WebhookOut,
    responses=documented(401, 403, 404, 422),
)
async def update_webhook(
    webhook_id: WebhookId,
    body: schemas.WebhookPatch,
    request: Request,
    claims: AuthorizedClaims,
) -> schemas.WebhookOut:
    """Change the URL, the event types, the description, or ``active`` (re-enable)."""
    management = _management(request)
    changes = body.model_dump(exclude_unset=True)
    await _checked(management, changes.get("url"), changes.get("event_types"))
    changed = await run_in_threadpool(
        management.store.update_webhook, webhook_id, changes, _actor(claims)
    )
    if changed is None:
        raise _not_found(webhook_id)
    return present(changed)


@router.delete(
    "/{webhook_id}",
    name="delete_webhook",
    status_code=204,
    response_class=Response,
    responses=documented(401, 403, 404, 422),
)
async def delete_webhook(webhook_id: WebhookId, request: Request, claims: AuthorizedClaims) -> None:
    """Unsubscribe; its pending deliveries are dropped (the audit keeps the deletion)."""
    deleted = await run_in_threadpool(
        _management(request).store.delete_webhook, webhook_id, _actor(claims)
    )
    if not deleted:
        raise _not_found(webhook_id)


@router.post(
    "/{webhook_id}/rotate-secret",
    name="rotate_webhook_secret",
    response_model=schemas.WebhookSecret,
    responses=documented(401, 403, 404, 422),
)
async def rotate_secret(
    webhook_id: WebhookId, request: Request, claims: AuthorizedClaims
) -> schemas.WebhookSecret:
    """A new signing secret; for 24 h deliveries are signed with both (two signatures)."""
    secret = await run_in_threadpool(
        _management(request).store.rotate_secret,
        webhook_id,
        _actor(claims),
        ROTATION_OVERLAP_SECONDS,
    )
    if secret is None:
        raise _not_found(webhook_id)
    until = datetime.now(UTC).timestamp() + ROTATION_OVERLAP_SECONDS
    return schemas.WebhookSecret(id=webhook_id, secret=secret, previous_valid_until=_at(until))


@router.get(
    "/{webhook_id}/deliveries",
    name="list_webhook_deliveries",
    response_model=schemas.WebhookDeliveryPage,
    responses=documented(401, 403, 404, 422),
)
async def list_deliveries(
    webhook_id: WebhookId,
    request: Request,
    claims: AuthorizedClaims,
    status: Literal["pending", "delivered", "failed"] | None = Query(None),
    cursor: str | None = Query(None, max_length=20, pattern=r"^[0-9]+$"),
    limit: int = Query(50, ge=1, le=500),
) -> schemas.WebhookDeliveryPage:
    """One row per delivery, newest first, with every attempt."""
    await _webhook(request, webhook_id)
    rows, after = await run_in_threadpool(
        lambda: _management(request).store.deliveries(
            webhook_id, status=status, before=int(cursor) if cursor else None, limit=limit
        )
    )
    return schemas.WebhookDeliveryPage(
        deliveries=[present_delivery(r) for r in rows],
        next_cursor=str(after) if after is not None else None,
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    name="redeliver_webhook_delivery",
    status_code=202,
    response_model=schemas.WebhookQueued,
    responses=documented(401, 403, 404, 422),
)
async def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, request: Request, claims: AuthorizedClaims
) -> schemas.WebhookQueued:
    """Send the delivery again (same ``webhook-id`` and body), with a new horizon."""
    queued = await run_in_threadpool(
        _management(request).store.redeliver, webhook_id, delivery_id, _actor(claims)
    )
    if not queued:
        raise ProblemError(404, "delivery_not_found", f"No delivery {delivery_id}.")
    return schemas.WebhookQueued(delivery_id=delivery_id)


@router.post(
    "/{webhook_id}/ping",
    name="ping_webhook",
    status_code=202,
    response_model=schemas.WebhookQueued,
    responses=documented(401, 403, 404, 422),
)
async def ping(
    webhook_id: WebhookId, request: Request, claims: AuthorizedClaims
) -> schemas.WebhookQueued:
    """Queue a ``webhook.ping`` delivery."""
    queued = await run_in_threadpool(_management(request).store.ping, webhook_id)
    if queued is None:
        raise _not_found(webhook_id)
    return schemas.WebhookQueued(delivery_id=queued)


@router.get(
    "/{webhook_id}/audit",
    name="webhook_audit",
    response_model=schemas.WebhookAudit,
    responses=documented(401, 403, 422),
)
async def audit(
    webhook_id: WebhookId, request: Request, claims: AuthorizedClaims
) -> schemas.WebhookAudit:
    """Who changed this subscription, and how (kept after a deletion; never a secret)."""
    entries = await run_in_threadpool(_management(request).store.audit, webhook_id)
    return schemas.WebhookAudit(
        entries=[
            schemas.WebhookAuditEntry(
                at=_at(e["at"]), actor=e["actor"], action=e["action"], details=e["details"]
            )
            for e in entries
        ]
    )
