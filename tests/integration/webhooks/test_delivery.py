"""Retries, giving up and disabling, isolation of endpoints, rotation, redirects and the
connection-time address check, against real HTTP receivers on loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from contracts import TicketFields
from services.settings import Settings
from services.webhooks.adapters.sqlite_store import SqliteWebhookStore
from services.webhooks.bootstrap import Webhooks, run_webhooks
from services.webhooks.config import WebhookConfig
from tests.fixtures.kafka import CONSUMER_SETTINGS
from tests.fixtures.webhook_receiver import Received, Receiver
from tests.integration.webhooks.conftest import ADMIN, AGENT, Api, Stack, until


def new_ticket(tickets: Stack, subject: str = "VPN down") -> int:
    fields = TicketFields(subject=subject, requester="req@example.com")
    return tickets.app.create_ticket(fields, AGENT, channel="agent").number


def failing_first(n: int) -> Callable[[Receiver, Received], tuple[int, dict[str, str]]]:
    def behaviour(receiver: Receiver, request: Received) -> tuple[int, dict[str, str]]:
        return (500, {}) if len(receiver.requests()) < n else (200, {})

    return behaviour


async def test_a_receiver_answering_500_first_gets_the_delivery_later_with_the_same_webhook_id(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    tickets: Stack,
    dispatcher: Webhooks,
) -> None:
    receiver = receivers(failing_first(2))
    webhook, secret = store.create_webhook(receiver.url, ["ticket.created"], None, ADMIN)
    new_ticket(tickets)
    [accepted] = await until(receiver.accepted, "the delivery, at last")
    requests = receiver.requests()
    assert [r.status for r in requests] == [500, 500, 200]
    assert {r.id for r in requests} == {accepted.id}
    assert all(r.verifies(secret) for r in requests)
    assert len({r.headers["webhook-timestamp"] for r in requests}) >= 1
    await dispatcher.dispatcher.until_idle()
    [row], _ = store.deliveries(webhook.id)
    assert (row.id, row.status) == (accepted.id, "delivered")
    assert [a["status"] for a in row.attempts] == [500, 500, 200]
    assert row.attempts[0]["next_attempt_at"] is not None


async def test_an_always_failing_receiver_ends_failed_and_its_webhook_disabled(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    tickets: Stack,
    settings: Settings,
    config: WebhookConfig,
) -> None:
    receiver = receivers(lambda r, q: (503, {}))
    webhook, _ = store.create_webhook(receiver.url, [], None, ADMIN)
    short = settings.model_copy(
        update={
            "webhook_retry_horizon": timedelta(seconds=2),
            "webhook_disable_after": timedelta(seconds=1),
        }
    )
    async with run_webhooks(short, config, consumer_options=CONSUMER_SETTINGS):
        new_ticket(tickets)
        await until(lambda: store.counts().get("failed"), "the delivery to fail")
        disabled = await until(
            lambda: (w := store.webhook(webhook.id)) is not None and not w.active and w,
            "the webhook to be disabled",
        )
    assert disabled.disabled_reason
    [row], _ = store.deliveries(webhook.id)
    assert row.status == "failed" and len(row.attempts) >= 2
    assert all(a["status"] == 503 for a in row.attempts)
    assert len(receiver.requests()) == len(row.attempts)
    assert [e["action"] for e in store.audit(webhook.id)] == ["created", "disabled"]
    assert store.audit(webhook.id)[1]["actor"] == "system"


async def test_a_receiver_that_sleeps_does_not_delay_a_second_endpoint(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    tickets: Stack,
    dispatcher: Webhooks,
) -> None:
    release = threading.Event()

    def asleep(receiver: Receiver, request: Received) -> tuple[int, dict[str, str]]:
        release.wait(30)
        return 200, {}

    slow, fast = receivers(asleep), receivers()
    store.create_webhook(slow.url, [], None, ADMIN)
    store.create_webhook(fast.url, [], None, ADMIN)
    try:
        for n in range(10):
            new_ticket(tickets, f"ticket {n}")
        got = await until(lambda: len(fast.accepted()) >= 10, "every delivery to the fast one")
        assert got
        assert not slow.accepted(), "the slow endpoint is still asleep"
    finally:
        release.set()
    await until(lambda: len({r.id for r in slow.accepted()}) >= 10, "the slow one's, later")


async def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one(
    api: Api, receivers: Callable[..., Receiver], settings: Settings, config: WebhookConfig
) -> None:
    receiver = receivers()
    created = api.create(receiver.url)
    old = created["secret"]
    assert old.startswith("whsec_")
    path = f"/api/v1/webhooks/{created['id']}"
    async with run_webhooks(settings, config, consume=False) as hooks:

        async def ping() -> Received:
            reply = api.client.post(f"{path}/ping", headers=api.headers("integration"))
            assert reply.status_code == 202, reply.text
            delivery = reply.json()["delivery_id"]
            hooks.dispatcher.wake()
            return await until(
                lambda: next((r for r in receiver.accepted() if r.id == delivery), None), "ping"
            )

        before = await ping()
        assert before.verifies(old) and before.payload()["type"] == "webhook.ping"
        rotated = api.client.post(f"{path}/rotate-secret", headers=api.headers("owner"))
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and new.startswith("whsec_")
        during = await ping()
        assert during.verifies(old) and during.verifies(new)
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        hooks.store.end_overlap(created["id"])  # as 24 h later
        after = await ping()
        assert after.verifies(new) and not after.verifies(old)
    for answer in (
        api.client.get(path, headers=api.headers()),
        api.client.get("/api/v1/webhooks", headers=api.headers()),
        api.client.get(f"{path}/audit", headers=api.headers()),
        api.client.get(f"{path}/deliveries", headers=api.headers()),
    ):
        assert answer.status_code == 200, answer.text
        assert old not in answer.text and new not in answer.text, "a secret in a later answer"
    actions = [
        e["action"]
        for e in api.client.get(f"{path}/audit", headers=api.headers()).json()["entries"]
    ]
    assert actions == ["created", "secret_rotated"]


async def test_a_302_answer_is_not_followed(
    api: Api, receivers: Callable[..., Receiver], settings: Settings, config: WebhookConfig
) -> None:
    target = receivers()
    redirecting = receivers(lambda r, q: (302, {"Location": target.url}))
    created = api.create(redirecting.url)
    async with run_webhooks(settings, config, consume=False) as hooks:
        hooks.store.ping(created["id"])
        hooks.dispatcher.wake()
        await until(lambda: hooks.store.counts().get("failed"), "the delivery to fail")
    assert [r.status for r in redirecting.requests()] == [302]
    assert target.requests() == []
    page = api.client.get(
        f"/api/v1/webhooks/{created['id']}/deliveries?status=failed", headers=api.headers()
    ).json()
    [delivery] = page["deliveries"]
    assert [a["status"] for a in delivery["attempts"]] == [302]


async def test_every_connection_checks_the_address_again(
    store: SqliteWebhookStore,
    receivers: Callable[..., Receiver],
    settings: Settings,
    config: WebhookConfig,
) -> None:
    """A name that resolves to loopback at delivery time (DNS rebinding: it passed the
    registration check) is refused at the connection (the allowlist is empty here)."""
    receiver = receivers()
    port = receiver.url.split(":")[2].split("/")[0]
    webhook, _ = store.create_webhook(f"http://localhost:{port}/hook", [], None, ADMIN)
    strict = settings.model_copy(update={"webhook_allowed_hosts": ""})
    async with run_webhooks(strict, config, consume=False) as hooks:
        hooks.store.ping(webhook.id)
        hooks.dispatcher.wake()
        await until(
            lambda: (rows := store.deliveries(webhook.id)[0]) and rows[0].attempts, "an attempt"
        )
    assert receiver.requests() == []
    [row], _ = store.deliveries(webhook.id)
    assert row.attempts[0]["status"] is None
    assert "refused" in row.attempts[0]["error"] and "loopback" in row.attempts[0]["error"]
