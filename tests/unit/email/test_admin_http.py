"""The ingest's admin API over HTTP (ASGI): admins and owners only, problem documents,
release once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from contracts.common import Role
from services.email_ingest.adapters.admin_http import check_role_table, create_admin_app
from services.email_ingest.adapters.quarantine_files import FileQuarantine
from services.email_ingest.adapters.suspended_files import FileSuspendedQueue
from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.authentication import MtaVerdict
from services.email_ingest.application.ingest import IngestService
from services.email_ingest.domain.addresses import SupportAddress
from services.ticket_service.adapters.http.auth import mint_token
from tests.unit.email.fakes import SUPPORT, RecordingPublisher, add_ticket, mail

SECRET = "test-secret-test-secret-test-secret"
FAIL = "mx.helpdesk.localhost; dmarc=fail"


def bearer(role: Role) -> dict[str, str]:
    token = mint_token(SECRET, role=role, email=f"{role.value}@example.com")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
async def client(tmp_path: Path, publisher: RecordingPublisher) -> AsyncIterator[httpx.AsyncClient]:
    index = SqliteTicketIndex()
    add_ticket(index, 5, requester="ann@example.com")
    queue = FileSuspendedQueue(tmp_path / "s")
    service = IngestService(
        index=index,
        publisher=publisher,
        quarantine=FileQuarantine(tmp_path / "q"),
        suspended=queue,
        support=SupportAddress(SUPPORT),
        max_bytes=100_000,
        authenticator=MtaVerdict("mx.helpdesk.localhost"),
    )
    await service.ingest(
        mail(sender="ann@example.com", subject="[#5]", headers={"Authentication-Results": FAIL})
    )
    app = create_admin_app(service, queue, SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as c:
        yield c


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.REQUESTER, Role.INTEGRATION])
async def test_only_admins_and_owners(client: httpx.AsyncClient, role: Role) -> None:
    answer = await client.get("/api/v1/email/suspended", headers=bearer(role))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/email/suspended")).status_code == 401
    bad = {"Authorization": "Bearer nonsense"}
    assert (await client.get("/api/v1/email/suspended", headers=bad)).status_code == 401


async def test_list_show_release_once(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    admin = bearer(Role.ADMIN)
    [entry] = (await client.get("/api/v1/email/suspended", headers=admin)).json()
    assert (entry["reason"], entry["ticket_number"]) == ("unauthenticated", 5)
    sid = entry["id"]
    shown = await client.get(f"/api/v1/email/suspended/{sid}", headers=bearer(Role.OWNER))
    assert shown.json()["sender"] == "ann@example.com"
    raw = await client.get(f"/api/v1/email/suspended/{sid}/raw", headers=admin)
    assert raw.headers["content-type"] == "message/rfc822" and b"[#5]" in raw.content
    released = await client.post(f"/api/v1/email/suspended/{sid}/release", headers=admin)
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["outcome"], body["ticket_number"]) == ("add_comment", 5)
    assert body["audit"]["by"] == "admin:admin@example.com"
    again = await client.post(f"/api/v1/email/suspended/{sid}/release", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "already_released"
    assert len(publisher.published) == 1
    gone = await client.get(f"/api/v1/email/suspended/{sid}", headers=admin)
    assert gone.status_code == 409


async def test_reject_and_unknown_ids(
    client: httpx.AsyncClient, publisher: RecordingPublisher
) -> None:
    admin = bearer(Role.ADMIN)
    [entry] = (await client.get("/api/v1/email/suspended", headers=admin)).json()
    rejected = await client.post(f"/api/v1/email/suspended/{entry['id']}/reject", headers=admin)
    assert rejected.status_code == 200 and rejected.json()["action"] == "rejected"
    assert publisher.published == []
    for path in ("0" * 32, "..%2F..%2Fetc", "not-an-id"):
        answer = await client.post(f"/api/v1/email/suspended/{path}/release", headers=admin)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"


def test_start_up_check_refuses_unguarded_or_unlisted_routes() -> None:
    router = APIRouter()

    @router.get("/x", name="open_route")
    async def open_route() -> None: ...

    with pytest.raises(RuntimeError, match="without the admin_bearer"):
        check_role_table(router.routes)
