"""The one place every service creates its Kafka topics and its producers.

Topics: :func:`service_topics` / :func:`partitioned` name each topic with its partition
count, taken from the settings (``HELPDESK_KAFKA_PARTITIONS``,
``HELPDESK_KAFKA_DEAD_LETTER_PARTITIONS``: one source of truth, so the service that happens
to create a topic first cannot give it another partitioning; compose's ``kafka-init`` reads
the same variables);
:func:`ensure_topics` creates the missing ones (Tansu and locked-down Kafka clusters do not
auto-create them).

Producers: :func:`make_producer` is an aiokafka producer with the settings every sender
shares: ``acks=all`` (a send returns once the broker has the record), an idempotent
producer only where the deployment says the broker supports it
(``HELPDESK_KAFKA_IDEMPOTENCE``; Tansu does not), never transactions (Tansu has none), no
compression, no lingering unless a caller asks for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from services.settings import Settings

log = logging.getLogger(__name__)

CREATE_WAIT_SECONDS = 30.0
"""How long a created topic may take to be listed (Apache Kafka creates asynchronously)."""
MAX_REQUEST_BYTES = 1_000_000
"""A producer's largest record batch: the broker's default ``max.message.bytes``."""

REFUSED_OVERRIDES = {
    "transactional_id": "transactions are not used (the Tansu broker has none)",
    "enable_idempotence": "idempotence is a deployment setting: HELPDESK_KAFKA_IDEMPOTENCE",
}


def service_topics(settings: Settings) -> dict[str, int]:
    """Every topic of the system (events, commands, dead letters) with its partitions."""
    return {
        settings.topic_events: settings.kafka_partitions,
        settings.topic_commands: settings.kafka_partitions,
        settings.topic_dead_letter: settings.kafka_dead_letter_partitions,
    }


def partitioned(settings: Settings, *topics: str) -> dict[str, int]:
    """``topics`` (some of :func:`service_topics`) with their partitions."""
    every = service_topics(settings)
    return {topic: every[topic] for topic in topics}


async def ensure_topics(
    bootstrap: str, topics: Mapping[str, int], *, replication: int = 1
) -> list[str]:
    """Create the topics of ``topics`` (name → partitions) that do not exist yet and wait
    until the broker lists them; returns the names created. Existing topics are left as they
    are (adding partitions would move keys, and so break per-ticket order): one whose
    partition count differs from ``topics`` is logged as a warning."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = {name: n for name, n in topics.items() if name not in existing}
        await _warn_about_other_partitions(admin, topics, existing)
        if not missing:
            return []
        with contextlib.suppress(TopicAlreadyExistsError):
            response = await admin.create_topics(
                [
                    NewTopic(name, num_partitions=n, replication_factor=replication)
                    for name, n in missing.items()
                ]
            )
            failed = [
                (topic, code, message)
                for topic, code, message in response.topic_errors
                if code not in (0, TopicAlreadyExistsError.errno)
            ]
            if failed:
                raise KafkaError(f"creating topics failed: {failed}")
        # Apache Kafka creates topics asynchronously: poll the broker until it lists them.
        async with asyncio.timeout(CREATE_WAIT_SECONDS):
            while set(missing) - set(await admin.list_topics()):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        log.info("created topics %s", sorted(missing))
        return sorted(missing)
    finally:
        await admin.close()


async def _warn_about_other_partitions(
    admin: AIOKafkaAdminClient, topics: Mapping[str, int], existing: set[str]
) -> None:
    present = [name for name in topics if name in existing]
    if not present:
        return
    for described in await admin.describe_topics(present):
        name, count = described["topic"], len(described["partitions"])
        if count != topics[name]:
            log.warning(
                "topic %s has %d partitions, the settings say %d; left as it is",
                name,
                count,
                topics[name],
            )


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """The shared producer configuration, with a caller's ``overrides`` (``client_id``,
    ``linger_ms``, ``request_timeout_ms``...). Transactions and an idempotence that the
    settings do not ask for are refused."""
    for name, reason in REFUSED_OVERRIDES.items():
        if name in overrides:
            raise ValueError(f"producer option {name!r} refused: {reason}")
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "compression_type": None,
        "linger_ms": 0,
        "max_batch_size": MAX_REQUEST_BYTES,
        "request_timeout_ms": 15_000,
        "retry_backoff_ms": 200,
    }
    config.update(overrides)
    return config


PRODUCER_ONLY = ("acks", "enable_idempotence", "compression_type", "linger_ms", "max_batch_size")
"""The options of :func:`producer_config` that concern only the producer: a FastStream
broker takes them for the producer it publishes with (its connection options, the request
timeout included, are its consumers' too, so they are left to it)."""


def broker_producer_options(settings: Settings) -> dict[str, Any]:
    """The shared producer options, for a FastStream ``KafkaBroker(...)``."""
    config = producer_config(settings)
    return {name: config[name] for name in PRODUCER_ONLY}


def make_producer(settings: Settings, **overrides: Any) -> AIOKafkaProducer:
    """An (unstarted) producer with :func:`producer_config`. Create it inside the running
    event loop, as aiokafka requires."""
    return AIOKafkaProducer(**producer_config(settings, **overrides))
