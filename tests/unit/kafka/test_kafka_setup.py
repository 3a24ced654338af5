"""One topic set-up and one producer configuration for every service (issue #15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.closer_worker.bootstrap import build_worker
from services.kafka_setup import (
    broker_producer_options,
    partitioned,
    producer_config,
    service_topics,
)
from services.settings import Settings
from services.ticket_service.adapters.kafka.broker import build_ticket_broker
from services.ticket_service.bootstrap import build_application


def test_every_topic_takes_its_partitions_from_the_settings() -> None:
    settings = Settings(kafka_partitions=6)
    assert service_topics(settings) == {
        "helpdesk.ticket-events": 6,
        "helpdesk.ticket-commands": 6,
        "helpdesk.dead-letter": 1,
    }
    assert service_topics(Settings(kafka_dead_letter_partitions=2))["helpdesk.dead-letter"] == 2
    assert partitioned(settings, settings.topic_commands) == {"helpdesk.ticket-commands": 6}


def test_the_shared_producer_waits_for_every_replica_and_uses_no_broker_feature_tansu_lacks() -> (
    None
):
    config = producer_config(Settings(kafka_bootstrap="k:9092"))
    assert config["bootstrap_servers"] == "k:9092"
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is False
    assert config["compression_type"] is None
    assert config["linger_ms"] == 0
    assert "transactional_id" not in config


def test_idempotence_is_the_deployment_setting_and_no_caller_overrides_it() -> None:
    assert producer_config(Settings(kafka_idempotence=True))["enable_idempotence"] is True
    with pytest.raises(ValueError, match="HELPDESK_KAFKA_IDEMPOTENCE"):
        producer_config(Settings(), enable_idempotence=True)
    with pytest.raises(ValueError, match="transactions"):
        producer_config(Settings(), transactional_id="helpdesk")


def test_callers_tune_only_what_they_name() -> None:
    config = producer_config(Settings(), linger_ms=5, client_id="someone")
    assert (config["linger_ms"], config["client_id"], config["acks"]) == (5, "someone", "all")


async def test_running_brokers_declare_publishers_only_for_what_they_send(
    tmp_path: Path,
) -> None:
    """The events topic is the relay's and the closes are the closer's producer's: no
    FastStream publisher is declared for them (the AsyncAPI document describes them)."""
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1", data_dir=tmp_path
    )
    app = build_application(settings)
    try:
        broker, _ = build_ticket_broker(app, settings)
        assert [p.topic for p in broker.publishers] == [settings.topic_dead_letter]
    finally:
        app.close()
    worker = build_worker(settings)
    assert list(worker.broker.publishers) == []
    await worker.store.close()


def test_faststream_brokers_publish_with_the_same_producer_options() -> None:
    settings = Settings(kafka_idempotence=True)
    options = broker_producer_options(settings)
    assert options["acks"] == "all"
    assert options["enable_idempotence"] is True
    assert "request_timeout_ms" not in options  # a broker's consumers share that one
