"""The AsyncAPI document of the ticket service's Kafka channels (``helpdesk asyncapi``;
committed as ``docs/asyncapi.yaml``, a test fails when it is stale).

FastStream describes the channels it serves (the command subscriber, the dead-letter
publisher). The events topic is published by the outbox relay with a plain producer, so it
is described here from its contract (:data:`contracts.events.Event`) instead of by a
publisher declared for the document only."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import yaml
from faststream.specification import AsyncAPI
from pydantic import TypeAdapter

from contracts.events import Event
from services.settings import Settings
from services.ticket_service.adapters.kafka.broker import specification_broker

DOCUMENTED_BOOTSTRAP = "localhost:9092"
KAFKA_BINDING_VERSION = "0.4.0"

EVENTS_DESCRIPTION = (
    "Every ticket event, in store order (per-ticket order guaranteed), key = ticket id, "
    "value = the JSON envelope. At-least-once: deduplicate by event_id, or by "
    "(ticket_id, version) for events with a version (CommandRejected has none)."
)


@dataclass(frozen=True)
class SentChannel:
    """A topic the service sends to without FastStream, described from its contract."""

    name: str
    address: str
    description: str
    payload: Any
    """The contract type of a record's value (a pydantic model or an annotated union)."""


def sent_channels(settings: Settings) -> list[SentChannel]:
    return [SentChannel("ticket-events", settings.topic_events, EVENTS_DESCRIPTION, Event)]


def default_topics_settings() -> Settings:
    """Default topic names whatever the environment says: the document is committed."""
    fields = Settings.model_fields
    return Settings(
        kafka_bootstrap=DOCUMENTED_BOOTSTRAP,
        topic_events=fields["topic_events"].default,
        topic_commands=fields["topic_commands"].default,
        topic_dead_letter=fields["topic_dead_letter"].default,
    )


def asyncapi_yaml(settings: Settings | None = None) -> str:
    settings = settings or default_topics_settings()
    spec = AsyncAPI(
        specification_broker(settings),
        title="Helpdesk ticket service",
        version=version("helpdesk"),
        description=(
            "Kafka interface of the helpdesk ticket service: commands in, events out, "
            "poison messages to the dead-letter topic."
        ),
        schema_version="3.0.0",
    )
    document = spec.to_specification().to_jsonable()
    for channel in sent_channels(settings):
        add_sent_channel(document, channel)
    return _canonical_yaml(document)


def add_sent_channel(document: dict[str, Any], channel: SentChannel) -> None:
    """Add ``channel`` as FastStream would have described a publisher of it: the channel,
    a ``send`` operation, its message and the payload's schemas."""
    message = f"{channel.name}:Message"
    payload = f"{message}:Payload"
    servers = [{"$ref": f"#/servers/{name}"} for name in document.get("servers", {})]
    document.setdefault("channels", {})[channel.name] = {
        "address": channel.address,
        "description": channel.description,
        "servers": servers,
        "messages": {"Message": {"$ref": f"#/components/messages/{message}"}},
        "bindings": {"kafka": {"topic": channel.address, "bindingVersion": KAFKA_BINDING_VERSION}},
    }
    document.setdefault("operations", {})[channel.name] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel.name}"},
        "messages": [{"$ref": f"#/channels/{channel.name}/messages/Message"}],
    }
    components = document.setdefault("components", {})
    components.setdefault("messages", {})[message] = {
        "title": message,
        "payload": {"$ref": f"#/components/schemas/{payload}"},
    }
    schema = _asyncapi_discriminators(
        TypeAdapter(channel.payload).json_schema(ref_template="#/components/schemas/{model}")
    )
    schemas = components.setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[payload] = {**schema, "title": payload}


def _asyncapi_discriminators(schema: Any) -> Any:
    """pydantic writes OpenAPI's ``discriminator`` object; an AsyncAPI schema's is the
    property name alone (as FastStream writes it)."""
    if isinstance(schema, list):
        return [_asyncapi_discriminators(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: value["propertyName"]
        if key == "discriminator" and isinstance(value, dict) and "propertyName" in value
        else _asyncapi_discriminators(value)
        for key, value in schema.items()
    }


def _canonical_yaml(document: dict[str, Any]) -> str:
    """FastStream keeps publishers in a WeakSet, so channel order varies between runs:
    sort the named maps so that the committed file only changes when the contract does."""
    for key in ("channels", "operations"):
        if key in document:
            document[key] = dict(sorted(document[key].items()))
    components = document.get("components", {})
    for key in ("messages", "schemas"):
        if key in components:
            components[key] = dict(sorted(components[key].items()))
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
