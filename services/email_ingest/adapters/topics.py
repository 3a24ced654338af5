"""Create the topics email ingest uses when missing (Tansu and locked-down clusters do not
auto-create them with the partitioning we want)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(bootstrap: str, names: Iterable[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        missing = [n for n in dict.fromkeys(names) if n not in set(await admin.list_topics())]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(n, 1, 1) for n in missing])
    finally:
        await admin.close()
