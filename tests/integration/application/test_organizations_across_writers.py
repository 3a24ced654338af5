"""Organizations with several writers on one store (two application instances, as two
processes): a claim stays unique although both read the directory before either saves,
and a ticket created by one writer sees the other's organizations at once."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.common import Actor, TicketFields
from services.settings import Settings
from services.ticket_service.application import organizations
from services.ticket_service.application.context import RequestContext
from services.ticket_service.bootstrap import build_application
from services.ticket_service.domain import errors
from services.ticket_service.domain.organization import OrganizationDirectory

ADMIN = RequestContext(actor=Actor(role="admin", email="admin@helpdesk.example"))
AGENT = RequestContext(actor=Actor(role="agent", email="agent@helpdesk.example"))


def test_a_domain_claimed_by_two_writers_at_once_goes_to_one(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = build_application(store_settings), build_application(store_settings)
    read = first.organizations.for_change
    raced: list[Any] = []

    def read_then_lose_the_race() -> OrganizationDirectory:
        directory = read()
        if not raced:  # the other writer saves its claim in between, once
            raced.append(
                organizations.create_organization(
                    second, ADMIN, name="Second", domains=["contested.example"]
                )
            )
        return directory

    monkeypatch.setattr(first.organizations, "for_change", read_then_lose_the_race)
    with pytest.raises(errors.ClaimConflict):
        organizations.create_organization(
            first, ADMIN, name="First", domains=["contested.example", "first.example"]
        )
    (winner,) = raced
    for app in (first, second):
        listed = organizations.list_organizations(app)
        assert [(o["name"], o["domains"]) for o in listed] == [("Second", ["contested.example"])]
    ticket = first.create_ticket(
        TicketFields(subject="s", requester="a@contested.example"), AGENT, channel="agent"
    )
    assert ticket.organization_id == str(winner.id)


def test_changes_by_one_writer_apply_to_the_next_tickets_of_another(
    store_settings: Settings,
) -> None:
    first, second = build_application(store_settings), build_application(store_settings)
    fields = TicketFields(subject="s", requester="a@shared-writers.example")
    assert second.create_ticket(fields, AGENT, channel="agent").organization_id is None
    org = organizations.create_organization(
        first, ADMIN, name="Shared", domains=["shared-writers.example"]
    )
    assert second.create_ticket(fields, AGENT, channel="agent").organization_id == str(org.id)
    organizations.delete_organization(first, org.id, ADMIN)
    assert second.create_ticket(fields, AGENT, channel="agent").organization_id is None
