"""Standard Webhooks headers: ``webhook-id`` (the delivery's, the same on every attempt),
``webhook-timestamp`` (this attempt's) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256
of "id.timestamp.body">``, one per secret, space-separated during a rotation overlap)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

USER_AGENT = "helpdesk-webhooks/1"


def signed_headers(
    delivery_id: str, secrets: Sequence[str], body: bytes, at: float
) -> dict[str, str]:
    when = datetime.fromtimestamp(int(at), UTC)
    text = body.decode()
    signatures = " ".join(Webhook(secret).sign(delivery_id, when, text) for secret in secrets)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": signatures,
    }
