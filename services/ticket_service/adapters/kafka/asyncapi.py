"""The AsyncAPI document of the ticket service's Kafka channels (``helpdesk asyncapi``;
committed as ``docs/asyncapi.yaml``, a test fails when it is stale)."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import yaml
from faststream.specification import AsyncAPI

from services.settings import Settings
from services.ticket_service.adapters.kafka.broker import specification_broker

DOCUMENTED_BOOTSTRAP = "localhost:9092"


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
    spec = AsyncAPI(
        specification_broker(settings or default_topics_settings()),
        title="Helpdesk ticket service",
        version=version("helpdesk"),
        description=(
            "Kafka interface of the helpdesk ticket service: commands in, events out, "
            "poison messages to the dead-letter topic."
        ),
        schema_version="3.0.0",
    )
    return _canonical_yaml(spec.to_specification().to_jsonable())


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
