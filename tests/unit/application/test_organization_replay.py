"""A ticket's organization is a fact of its history (recorded in its creation event), so
replays never depend on what organizations look like today, and tickets stored before
organizations existed read as belonging to none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from contracts import events as ev
from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.adapters.read_models.projector import TicketViews
from services.ticket_service.application import organizations
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain.ids import ORGANIZATION_DIRECTORY_ID, ticket_id_for

ADMIN = RequestContext(actor=Actor(role="admin", email="admin@helpdesk.example"))
AGENT = RequestContext(actor=Actor(role="agent", email="agent@helpdesk.example"))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TicketApplication]:
    application = build_application(Settings(data_dir=tmp_path))
    yield application
    application.close()


def create(app: TicketApplication, requester: str) -> int:
    fields = TicketFields(subject="s", requester=requester)
    return app.create_ticket(fields, AGENT, channel="agent").number


def org_column(views: TicketViews, number: int) -> str:
    with views.tables.transaction(commit=False) as cur:
        row = cur.execute(
            "SELECT org FROM helpdesk_view_tickets WHERE number = ?", (number,)
        ).fetchone()
    return str(row["org"])


def test_rebuilt_views_match_after_organizations_change_and_go(app: TicketApplication) -> None:
    views = TicketViews(app)
    acme = organizations.create_organization(app, ADMIN, name="Acme", domains=["acme.example"])
    first = create(app, "a@acme.example")
    organizations.change_organization(app, acme.id, ADMIN, domains=["acme2.example"])
    second = create(app, "b@acme.example")
    third = create(app, "c@acme2.example")
    organizations.delete_organization(app, acme.id, ADMIN)
    fourth = create(app, "d@acme2.example")
    views.catch_up()
    expected = {first: str(acme.id), second: "", third: str(acme.id), fourth: ""}
    assert {n: org_column(views, n) for n in expected} == expected
    assert views.rebuild(dry_run=True).unchanged
    for number, org in expected.items():
        assert (app.get_ticket(number).organization_id or "") == org


def test_a_ticket_stored_before_organizations_belongs_to_none(app: TicketApplication) -> None:
    organizations.create_organization(app, ADMIN, name="Acme", domains=["acme.example"])
    number = create(app, "a@acme.example")
    (stored,) = app.recorder.select_events(ticket_id_for(number))
    state = json.loads(stored.state)
    assert state.pop("organization_id") is not None
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    domain_event = app.mapper.to_domain_event(old)
    ticket = domain_event.mutate(None)  # type: ignore[attr-defined]
    assert ticket.organization_id is None
    envelope = to_envelope(domain_event)
    assert isinstance(envelope, ev.TicketCreated)
    assert envelope.data.organization_id is None


def test_a_new_process_reads_the_directory_from_its_snapshot(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    writer = build_application(settings)
    orgs = [
        organizations.create_organization(
            writer, ADMIN, name=f"Org {i}", domains=[f"org{i}.example"]
        )
        for i in range(105)
    ]
    assert writer.snapshots is not None
    assert list(writer.snapshots.get(ORGANIZATION_DIRECTORY_ID, desc=True, limit=1))
    reader = build_application(settings)
    for i in (0, 50, 104):
        number = create(reader, f"a@org{i}.example")
        assert reader.get_ticket(number).organization_id == str(orgs[i].id)
    directory = reader.organizations.current()
    assert directory is not None and directory.version == 106
    writer.close()
    reader.close()
