"""No event can exceed Apache Kafka's default record limit (issue #12, item 6).

The largest command the contracts allow, of every kind, is applied through the Kafka
command path (``handle_command``); every event it causes, of every event type, is mapped
and serialised as the relay publishes it, and stays below 1,000,000 bytes (broker
``max.message.bytes`` 1,048,588, producer ``max.request.size`` 1,048,576). Every string is
made of the character JSON writes longest (``\\u0000``: 6 bytes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from contracts import commands as cmd
from contracts import limits
from contracts.commands import CommandAdapter
from contracts.common import Actor
from contracts.events import EVENT_TYPES
from services.settings import Settings
from services.ticket_service.adapters.http.auth import InvalidToken, decode_token, mint_token
from services.ticket_service.adapters.kafka.event_records import EventRecord, event_record
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.messagebus import handle_command
from services.ticket_service.application.organizations import (
    change_organization,
    create_organization,
    delete_organization,
)
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application

KAFKA_SAFE_RECORD = 1_000_000
WIDEST = "\x00"
"""One character, six bytes of JSON."""


def wide(n: int, tag: str = "") -> str:
    return (tag + WIDEST * n)[:n]


def longest_address(n: int) -> str:
    """A distinct valid address of the greatest length the contract takes."""
    local = f"u{n:03d}" + "a" * 60
    domain = ".".join(["b" * 63, "c" * 63, "d" * 57, "com"])
    return f"{local}@{domain}"


def largest_custom_fields() -> dict[str, Any]:
    nested: dict[str, Any] = {"leaf": ""}
    for _ in range(limits.CUSTOM_FIELDS_DEPTH_MAX - 2):
        nested = {"n": nested}
    value = {"deep": nested, "pad": ""}
    room = limits.CUSTOM_FIELDS_BYTES_MAX - limits.json_size(value)
    value["pad"] = WIDEST * (room // 6)
    value["pad"] += "x" * (limits.CUSTOM_FIELDS_BYTES_MAX - limits.json_size(value))
    assert limits.json_size(value) == limits.CUSTOM_FIELDS_BYTES_MAX
    return value


def largest_attachments() -> list[dict[str, Any]]:
    items = [{"filename": "", "n": i} for i in range(limits.ATTACHMENTS_MAX)]
    room = limits.ATTACHMENTS_BYTES_MAX - limits.json_size(items)
    for item in items:
        item["filename"] = WIDEST * (room // 6 // len(items))
    items[0]["filename"] += "x" * (limits.ATTACHMENTS_BYTES_MAX - limits.json_size(items))
    assert limits.json_size(items) == limits.ATTACHMENTS_BYTES_MAX
    return items


ACTOR = {
    "role": "integration",
    "email": longest_address(0),
    "sub": wide(limits.SUB_MAX),
}


def head(command_type: str, **target: Any) -> dict[str, Any]:
    return {
        "command_id": str(uuid4()),
        "command_type": command_type,
        "issued_at": datetime.now(UTC).isoformat(),
        "correlation_id": wide(limits.ID_MAX),
        "causation_id": wide(limits.ID_MAX),
        "actor": ACTOR,
        **target,
    }


def largest_fields(variant: str) -> dict[str, Any]:
    return {
        "subject": wide(limits.SUBJECT_MAX, variant),
        "requester": longest_address(1 if variant == "a" else 2),
        "cc": [longest_address(10 + i) for i in range(limits.CC_MAX)]
        if variant == "a"
        else [longest_address(200 + i) for i in range(limits.CC_MAX)],
        "assignee": wide(limits.NAME_MAX, variant),
        "division": wide(limits.NAME_MAX, variant),
        "form": wide(limits.NAME_MAX, variant),
        "tags": [wide(limits.TAG_MAX, f"{variant}{i}") for i in range(limits.TAGS_MAX)],
        "custom_fields": largest_custom_fields(),
    }


def largest_commands() -> list[dict[str, Any]]:
    """The largest command of every kind, in an order that makes every event type."""
    original = {"message_id": wide(limits.KEY_MAX), "size": 2**62, "sha256": "a" * 64}
    create = largest_fields("a") | {
        "description": wide(limits.TEXT_MAX),
        "status": "solved",
        "original": original,
        "attachments": largest_attachments(),
    }
    change = largest_fields("b")
    change["custom_fields"]["pad"] = change["custom_fields"]["pad"][:-1] + "y"
    comment = {
        "body": wide(limits.TEXT_MAX),
        "public": True,
        "attachments": largest_attachments(),
        "source_key": wide(limits.KEY_MAX),
        "quoted_text": wide(limits.QUOTED_TEXT_MAX),
        "original": original,
    }
    return [
        head("CreateTicket", data=create),  # TicketCreated
        head("UpdateTicket", ticket_number=1, data={"changes": change}),  # TicketUpdated
        head("UpdateTicket", ticket_number=1, data={"changes": {"status": "open"}}),
        head("AddComment", ticket_number=1, data=comment),  # CommentAdded
        head("CloseTicket", ticket_number=1, data={"closed_by": "integration"}),
        head("AddComment", ticket_number=1, data=comment | {"follow_up_if_closed": False}),
        head(  # FollowUpCreated, the longest description a follow-up can get
            "CreateFollowUp",
            ticket_number=1,
            data={"body": wide(limits.TEXT_MAX), "source_key": wide(limits.KEY_MAX)},
        ),
        head(
            "FollowUpRequested",
            ticket_number=1,
            data={
                "body": wide(limits.TEXT_MAX),
                "message_id": wide(limits.KEY_MAX, "m"),
                "sender": longest_address(3),
                "attachments": largest_attachments(),
                "original": original,
            },
        ),
        head("ChangeAutoClosePolicy", data={"after_days": 28})
        | {"actor": ACTOR | {"role": "admin"}},  # AutoClosePolicyChanged
    ]


def largest_members(variant: str) -> list[str]:
    """Members filling the organization's byte budget, with the widest characters."""
    members: list[str] = []
    budget = limits.ORGANIZATION_MEMBERS_BYTES_MAX
    while True:
        local = f"{variant}{len(members):05d}" + WIDEST * 58
        candidate = f"{local}@{'e' * 60}.example.com"
        if limits.json_size([*members, candidate]) > budget:
            return members
        members.append(candidate)


def largest_domains(variant: str) -> list[str]:
    return [
        ".".join([f"{variant}{i:03d}" + "f" * 59, "g" * 63, "h" * 63, "i" * 57, "com"])
        for i in range(100)
    ]


def make_largest_organization(app: TicketApplication) -> None:
    """OrganizationCreated, OrganizationChanged and OrganizationDeleted at their largest."""
    admin = RequestContext(
        actor=Actor(role="admin", email=longest_address(4), sub=wide(limits.SUB_MAX)),
        correlation_id=wide(limits.ID_MAX),
    )
    organization = create_organization(
        app,
        admin,
        name=wide(200, "o"),
        members=largest_members("a"),
        domains=largest_domains("a"),
    )
    change_organization(
        app,
        organization.id,
        admin,
        name=wide(200, "p"),
        members=largest_members("b"),
        domains=largest_domains("b"),
    )
    delete_organization(app, organization.id, admin)


def test_an_organization_above_its_member_budget_is_refused() -> None:
    from services.ticket_service.domain import errors
    from services.ticket_service.domain.organization import member_addresses

    members = largest_members("a")
    assert member_addresses(members)
    with pytest.raises(errors.InvalidRequest, match="bytes as JSON"):
        member_addresses([*members, "z" + WIDEST * 63 + "@" + "e" * 60 + ".example.com"])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[EventRecord]]:
    app: TicketApplication = build_application(
        Settings(data_dir=Path(tmp_path_factory.mktemp("sizes")))
    )
    try:
        for raw in largest_commands():
            command = CommandAdapter.validate_python(raw)  # allowed by the contract
            handle_command(app, command)
        make_largest_organization(app)
        records = []
        for notification in app.recorder.select_notifications(start=1, limit=1000):
            envelope = to_envelope(app.mapper.to_domain_event(notification))
            if envelope is not None:
                records.append(event_record(envelope))
        yield records
    finally:
        app.close()


def size(record: EventRecord) -> int:
    return len(record.key) + len(record.value) + sum(len(k) + len(v) for k, v in record.headers)


def test_the_largest_event_of_every_type_fits_a_default_kafka_record(
    published: list[EventRecord],
) -> None:
    largest: dict[str, int] = {}
    for record in published:
        event_type = dict(record.headers)["event_type"].decode()
        largest[event_type] = max(largest.get(event_type, 0), size(record))
    every_type = {model.model_fields["event_type"].default for model in EVENT_TYPES}
    assert set(largest) == every_type
    assert {t: n for t, n in largest.items() if n >= KAFKA_SAFE_RECORD} == {}
    # the limits are used, not dodged: the biggest events are near half a megabyte
    assert largest["TicketCreated"] > 600_000
    assert largest["OrganizationChanged"] > 600_000
    assert largest["CommentAdded"] > 600_000 + 6 * limits.QUOTED_TEXT_MAX  # quoted_text kept


def test_one_more_character_is_refused_everywhere() -> None:
    """Each maximum used above is the contract's own: one more is invalid."""
    create = head("CreateTicket", data=largest_fields("a"))
    over = [
        ("subject", wide(limits.SUBJECT_MAX + 1)),
        ("description", wide(limits.TEXT_MAX + 1)),
        ("assignee", wide(limits.NAME_MAX + 1)),
        ("tags", [*create["data"]["tags"], "one more"]),
        ("cc", [*create["data"]["cc"], "more@example.com"]),
        ("custom_fields", largest_custom_fields() | {"z": 1}),
    ]
    CommandAdapter.validate_python(create)
    for name, value in over:
        with pytest.raises(ValueError, match=name):
            CommandAdapter.validate_python(create | {"data": create["data"] | {name: value}})
    for name, value in (("correlation_id", wide(limits.ID_MAX + 1)),):
        with pytest.raises(ValueError, match=name):
            CommandAdapter.validate_python(create | {name: value})
    comment = head("AddComment", ticket_number=1, data={"body": "x"})
    with pytest.raises(ValueError, match="attachments"):
        CommandAdapter.validate_python(
            comment | {"data": {"body": "x", "attachments": [*largest_attachments(), {}]}}
        )
    assert cmd.AddCommentData.model_fields["body"].metadata  # max_length set
    with pytest.raises(ValueError, match="quoted_text"):
        CommandAdapter.validate_python(
            comment | {"data": {"body": "x", "quoted_text": wide(limits.QUOTED_TEXT_MAX + 1)}}
        )


def test_a_token_whose_actor_the_contract_refuses_is_not_a_valid_token() -> None:
    """Over HTTP the actor comes from the token: one the contract would refuse is 401,
    never a 500 from building the event."""
    secret = "test-secret-that-is-long-enough-for-hs256-0123456789"
    for claims in ({"sub": "s" * (limits.SUB_MAX + 1)}, {"email": longest_address(0) + "x"}):
        token = mint_token(secret, role="agent", email=claims.get("email"), sub=claims.get("sub"))
        with pytest.raises(InvalidToken):
            decode_token(token, secret)
