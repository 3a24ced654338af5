"""Make sure the topics exist (Tansu and locked-down Kafka clusters do not auto-create)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.settings import Settings

log = logging.getLogger(__name__)


def service_topics(settings: Settings) -> list[str]:
    return [settings.topic_events, settings.topic_commands, settings.topic_dead_letter]


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 1, replication: int = 1
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if not missing:
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(n, num_partitions=partitions, replication_factor=replication)
                    for n in missing
                ]
            )
        log.info("created topics %s", missing)
    finally:
        await admin.close()
