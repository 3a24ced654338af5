"""The AsyncAPI document of the ticket service's Kafka channels (``helpdesk asyncapi``;
committed as ``docs/asyncapi.yaml``, a test fails when it is stale)."""

from __future__ import annotations

from importlib.metadata import version

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
    return spec.to_specification().to_yaml()
