"""The webhook service's pure rules: retry schedule and verdicts, target addresses, event
types, and the signatures ``standardwebhooks`` verifies."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from standardwebhooks import Webhook

from services.webhooks.adapters.sqlite_store import new_secret
from services.webhooks.application.dispatcher import Dispatcher, DispatchPolicy
from services.webhooks.application.ports import Answer, Claimed
from services.webhooks.application.signing import signed_headers
from services.webhooks.domain.retry import RetrySchedule, judge, parse_retry_after, retryable
from services.webhooks.domain.targets import TargetRefused, check_addresses, forbidden, parse_target
from services.webhooks.domain.types import EVENT_TO_TYPE, subscribed


@pytest.mark.parametrize(
    ("status", "expected"),
    [(None, True), (408, True), (409, True), (429, True), (500, True), (503, True),
     (400, False), (404, False), (302, False), (410, False)],
)  # fmt: skip
def test_retryable_statuses(status: int | None, expected: bool) -> None:
    assert retryable(status) is expected


def test_the_pause_grows_with_jitter_and_honours_retry_after() -> None:
    schedule = RetrySchedule(first_seconds=5, cap_seconds=3600)
    assert 2.5 <= schedule.pause(1, 0.0) <= schedule.pause(1, 0.999) < 5
    assert schedule.pause(2, 0.0) == 5 and schedule.pause(12, 0.0) == 1800
    assert schedule.pause(1, 0.0, retry_after=120) == 120
    assert parse_retry_after("7", 0) == 7 and parse_retry_after("soon", 0) is None


def test_a_delivery_fails_past_its_horizon_and_on_a_final_refusal() -> None:
    schedule = RetrySchedule(first_seconds=5)
    common = {"failures": 1, "now": 100.0, "schedule": schedule, "jitter": 0.5}
    assert judge(status=200, expires_at=0, **common).status == "delivered"  # type: ignore[arg-type]
    assert judge(status=404, expires_at=1e9, **common).status == "failed"  # type: ignore[arg-type]
    later = judge(status=503, expires_at=1e9, **common)  # type: ignore[arg-type]
    assert later.status == "pending" and later.next_attempt_at is not None
    assert judge(status=503, expires_at=101, **common).status == "failed"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.1", "192.168.1.2", "169.254.169.254", "::1", "224.0.0.1",
                "0.0.0.0", "::ffff:127.0.0.1", "fd00:ec2::254"],
)  # fmt: skip
def test_unsafe_addresses(address: str) -> None:
    assert forbidden(address) is not None


def test_public_addresses_and_the_allowlist() -> None:
    assert forbidden("93.184.215.14") is None
    check_addresses("hooks.example.com", ["93.184.215.14"], frozenset())
    with pytest.raises(TargetRefused):
        check_addresses("evil.example.com", ["93.184.215.14", "127.0.0.1"], frozenset())
    check_addresses("localhost", ["127.0.0.1"], frozenset({"localhost"}))
    with pytest.raises(TargetRefused):
        parse_target("http://example.com/hook", allow_http=False)
    with pytest.raises(TargetRefused):
        parse_target("https://user:pw@example.com/hook", allow_http=False)
    assert parse_target("http://example.com/x", allow_http=True).port == 80


def test_event_types_and_subscriptions() -> None:
    assert EVENT_TO_TYPE["FollowUpCreated"] == "ticket.follow_up_created"
    assert subscribed((), "ticket.closed") and subscribed(("ticket.closed",), "ticket.closed")
    assert not subscribed(("ticket.created",), "ticket.closed")
    assert subscribed(("ticket.created",), "webhook.ping")


def test_signatures_verify_with_standardwebhooks_and_both_secrets_during_rotation() -> None:
    old, new = new_secret(), new_secret()
    assert old.startswith("whsec_") and old != new
    body = b'{"type":"webhook.ping"}'
    headers = signed_headers("msg_1", (new, old), body, time.time())
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"type": "webhook.ping"}


def _created(number: int, ticket: str, **data: object) -> dict[str, object]:
    return {
        "event_type": "FollowUpCreated" if "follow_up_of" in data else "TicketCreated",
        "event_id": str(uuid.uuid4()),
        "ticket_id": ticket,
        "ticket_number": number,
        "version": 1,
        "occurred_at": "2026-12-03T10:00:00Z",
        "data": {
            "number": number, "subject": "s", "description": "", "status": "open",
            "requester": "r@example.com", "cc": [], "assignee": None, "division": None,
            "priority": "normal", "form": None, "tags": [], "custom_fields": {},
            "channel": "agent", "created_by": {"role": "agent", "email": "a@example.com"},
            **data,
        },
    }  # fmt: skip


def test_a_follow_up_folded_before_its_original_still_links_it() -> None:
    """Another partition: the follow-up's event arrives before the original's creation."""
    import json

    from services.webhooks.application.planning import Planner
    from services.webhooks.application.ports import Webhook

    original, follow_up = str(uuid.uuid4()), str(uuid.uuid4())
    hook = Webhook("w", "https://example.com", (), None, True, 0.0, 0.0)
    planner = Planner(lambda n: None, [hook])
    [first] = planner.plan(_created(2, follow_up, follow_up_of={"number": 1, "id": original}))
    assert "original" not in json.loads(first.body)["data"]
    [second] = planner.plan(_created(1, original))
    assert json.loads(second.body)["data"]["ticket"]["follow_ups"] == [2]


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "1e3", "-5", "soon"])
def test_a_hostile_retry_after_is_ignored_not_raised(value: str) -> None:
    """A non-ASCII digit passed ``str.isdigit`` and then broke ``float``: the attempt was
    never recorded and its delivery retried forever."""
    assert parse_retry_after(value, time.time()) is None


class _Dribbler:
    """A sender whose receiver never finishes its answer."""

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        return None


def _claimed() -> Claimed:
    return Claimed(
        id=str(uuid.uuid4()),
        webhook_id="w",
        url="https://example.com/hook",
        secrets=(new_secret(),),
        body=b"{}",
        attempts=0,
        expires_at=time.time() + 3600,
        event_at=time.time(),
    )


def test_an_attempt_ends_within_a_third_of_the_lease() -> None:
    """Per-read timeouts don't bound a request; without a whole-attempt bound a slow
    receiver outlived the lease and the delivery was sent a second time meanwhile."""
    policy = DispatchPolicy(owner="t", lease_seconds=0.3)
    dispatcher = Dispatcher(store=None, sender=_Dribbler(), policy=policy)  # type: ignore[arg-type]
    settled = asyncio.run(dispatcher.attempt(_claimed()))
    assert settled.status == "pending"  # retried later, like any timeout
    assert settled.answer.status is None and "timed out" in (settled.answer.error or "")
