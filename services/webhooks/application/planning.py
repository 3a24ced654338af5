"""From a ticket event to the deliveries of it: the ticket projection (the ticket-document
fold the views use, plus the follow-up links), the payload and the subscribed webhooks.

A payload is ``{type, timestamp, data: {event, ticket}}``: ``data.event`` is the event
envelope, ``data.ticket`` the ticket as the integration API shows it at that version (its
``follow_up_of`` and ``follow_ups``). A ``ticket.follow_up_created`` payload also carries
``data.original``: the original ticket, whose ``follow_ups`` now list the new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from contracts import events as ev
from services.ticket_service.application.ticket_docs import Doc, apply, public_doc
from services.webhooks.application.ports import NewDelivery, Webhook
from services.webhooks.domain.types import PING, subscribed, webhook_type

STUB = "_stub"
"""Marks the projection entry of an original whose follow-up was folded first."""


def delivery_id() -> str:
    """The ``webhook-id``: one per delivery, the same on every attempt."""
    return f"msg_{uuid.uuid4().hex}"


def ticket_payload(doc: Doc) -> dict[str, Any]:
    return {**public_doc(doc), "follow_ups": list(doc.get("follow_ups") or [])}


def body(type_: str, timestamp: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": type_, "timestamp": timestamp, "data": data})


def ping_delivery(webhook_id: str, now: datetime) -> NewDelivery:
    identifier = delivery_id()
    return NewDelivery(
        id=identifier,
        webhook_id=webhook_id,
        ordering_key=identifier,
        type=PING,
        body=body(PING, now.isoformat(), {"webhook_id": webhook_id}),
        event_at=now.timestamp(),
    )


class Planner:
    """Folds events into ``docs`` (by ticket number) and plans their deliveries.

    ``load(number)`` fetches a document the batch has not seen yet (the store's
    projection); ``touched`` names the documents to write back."""

    def __init__(self, load: Callable[[int], Doc | None], webhooks: Iterable[Webhook]) -> None:
        self._load = load
        self.docs: dict[int, Doc] = {}
        self.touched: set[int] = set()
        self.webhooks = [w for w in webhooks if w.active]

    def _doc(self, number: int) -> Doc | None:
        if number not in self.docs:
            loaded = self._load(number)
            if loaded is None:
                return None
            self.docs[number] = loaded
        return self.docs[number]

    def _link(self, original_number: int, follow_up: int) -> dict[str, Any] | None:
        """Record ``follow_up`` in the original's links; the original's payload, or None
        when the original is not folded yet (another partition): a stub keeps the link
        until its creation arrives."""
        original = self._doc(original_number)
        if original is None:
            original = self.docs[original_number] = {STUB: True, "follow_ups": []}
        links = original.setdefault("follow_ups", [])
        if follow_up not in links:
            links.append(follow_up)
        self.touched.add(original_number)
        return None if STUB in original else ticket_payload(original)

    def plan(self, value: dict[str, Any]) -> list[NewDelivery]:
        type_ = webhook_type(str(value.get("event_type")))
        if type_ is None:
            return []
        try:
            envelope = ev.EventAdapter.validate_python(value)
        except ValidationError:
            return []
        data: dict[str, Any] = {"event": envelope.model_dump(mode="json")}
        number = envelope.ticket_number
        if number is not None:
            known = self._doc(number)
            stub = known is not None and STUB in known
            if (
                known is not None
                and not stub
                and envelope.version is not None
                and envelope.version <= int(known["version"])
            ):
                return []  # already folded: a republished event
            if stub and not isinstance(envelope, ev.TicketCreated | ev.FollowUpCreated):
                return []
            links_before = list(known.get("follow_ups") or []) if known else []
            if apply(self.docs, envelope, 0) is None:
                return []
            doc = self.docs[number]
            doc.setdefault("follow_ups", links_before)
            self.touched.add(number)
            if isinstance(envelope, ev.FollowUpCreated):
                data["original"] = self._link(envelope.data.follow_up_of.number, number)
                if data["original"] is None:
                    del data["original"]
            data["ticket"] = ticket_payload(doc)
        payload = body(type_, data["event"]["occurred_at"], data)
        at = envelope.occurred_at.timestamp()
        return [
            NewDelivery(
                id=delivery_id(),
                webhook_id=w.id,
                ordering_key=str(envelope.ticket_id),
                type=type_,
                body=payload,
                event_at=at,
            )
            for w in self.webhooks
            if subscribed(w.event_types, type_)
        ]
