"""Organizations are records (issue #12 item 9): managed through ``/api/v1/organizations``;
a ticket belongs to the organization its requester was in when it was created (explicit
member first, then a claimed domain); an org-wide token names the organization's id and
sees exactly that organization's tickets — never a free-mail domain's users', never
tickets in no organization."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ticket_service.domain.free_mail import FREE_MAIL_DOMAINS
from tests.unit.http.api_client import Api

ORGS = "/api/v1/organizations"


def seen(api: Api, headers: dict[str, str]) -> set[int]:
    numbers: set[int] = set()
    cursor: str | None = None
    while True:
        url = "/helpcenter/v1/requests?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(url, headers=headers).json()
        numbers |= {r["number"] for r in page["requests"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return numbers


def visible(api: Api, number: int, headers: dict[str, str]) -> bool:
    r = api.client.get(f"/helpcenter/v1/requests/{number}", headers=headers)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def test_org_wide_viewer_sees_exactly_their_organizations_tickets(api: Api) -> None:
    acme = api.organization("Acme", members=["freelancer@gmail.com"], domains=["acme.example"])
    beta = api.organization("Beta", domains=["beta.example"])
    by_domain = api.create("joe@acme.example")["number"]
    by_member = api.create("Freelancer@gmail.com")["number"]
    other_gmail = api.create("stranger@gmail.com")["number"]
    other_org = api.create("bea@beta.example")["number"]
    no_org = api.create("nobody@unclaimed.example")["number"]
    viewer = api.org_viewer("boss@acme.example", acme["id"])
    assert seen(api, viewer) == {by_domain, by_member}
    for number, expected in [
        (by_domain, True),
        (by_member, True),
        (other_gmail, False),
        (other_org, False),
        (no_org, False),
    ]:
        assert visible(api, number, viewer) is expected, number
    body = api.client.get(f"/helpcenter/v1/requests/{by_member}", headers=viewer).json()
    assert (body["read_only"], body["can_follow_up"]) == (True, False)
    agent = api.headers("agent")
    for number, org in [(by_domain, acme), (by_member, acme), (other_org, beta), (no_org, None)]:
        ticket = api.client.get(f"/api/v1/tickets/{number}", headers=agent).json()
        assert ticket["organization_id"] == (org["id"] if org else None)


def test_a_token_naming_a_free_mail_domain_sees_no_ones_tickets(api: Api) -> None:
    """The old meaning of ``org``: a domain. ``org=gmail.com`` must read nobody's tickets."""
    gmail_tickets = {api.create(f"user{i}@gmail.com")["number"] for i in range(3)}

    def nobody_sees_them() -> None:
        for org in ("gmail.com", "GMAIL.COM", "example.com", "not-a-uuid"):
            viewer = api.headers("requester", email="me@gmail.com", org=org, org_wide=True)
            assert seen(api, viewer).isdisjoint(gmail_tickets), org
            assert not any(visible(api, n, viewer) for n in gmail_tickets), org

    nobody_sees_them()
    api.organization("Has members", members=["user0@gmail.com"])
    gmail_tickets.add(api.create("user0@gmail.com")["number"])
    nobody_sees_them()


def test_tickets_in_no_organization_are_seen_by_no_org_wide_viewer(api: Api) -> None:
    numbers = {api.create(f"solo{i}@lonely.example")["number"] for i in range(3)}
    some = api.organization("Somebody", domains=["somebody.example"])
    for viewer in (
        api.org_viewer("x@somebody.example", some["id"]),
        api.org_viewer("x@lonely.example", some["id"]),
    ):
        assert seen(api, viewer).isdisjoint(numbers)
        assert not any(visible(api, n, viewer) for n in numbers)


def test_an_explicit_member_goes_before_a_claimed_domain(api: Api) -> None:
    parent = api.organization("Parent", domains=["parent.example"])
    consultants = api.organization("Consultants", members=["kim@parent.example"])
    kim = api.create("kim@parent.example")["number"]
    lee = api.create("lee@parent.example")["number"]
    assert seen(api, api.org_viewer("a@parent.example", consultants["id"])) == {kim}
    assert seen(api, api.org_viewer("a@parent.example", parent["id"])) == {lee}


FORMS = {
    "as listed": lambda d: d,
    "upper case": str.upper,
    "trailing dot": lambda d: d + ".",
    "leading at": lambda d: "@" + d,
    "subdomain": lambda d: "mail." + d,
    "padded": lambda d: f" {d} ",
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(domain=st.sampled_from(sorted(FREE_MAIL_DOMAINS)), form=st.sampled_from(sorted(FORMS)))
def test_free_mail_domains_can_never_be_claimed(api: Api, domain: str, form: str) -> None:
    claimed = FORMS[form](domain)
    admin = api.headers("admin")
    r = api.client.post(ORGS, json={"name": "Free", "domains": [claimed]}, headers=admin)
    assert r.status_code == 422, (claimed, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "free_mail_domain"
    target = api.organization(f"Patched {domain}")
    r = api.client.patch(f"{ORGS}/{target['id']}", json={"domains": [claimed]}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "free_mail_domain"), claimed


def test_a_domain_or_a_member_belongs_to_one_organization(api: Api) -> None:
    admin = api.headers("admin")
    first = api.organization("First", members=["one@shared.example"], domains=["shared.example"])
    for body in (
        {"name": "Second", "domains": ["Shared.Example"]},
        {"name": "Second", "members": ["ONE@shared.example"]},
    ):
        r = api.client.post(ORGS, json=body, headers=admin)
        assert (r.status_code, r.json()["code"]) == (409, "claim_conflict"), body
        assert "First" in r.json()["detail"]
    second = api.organization("Second", domains=["second.example"])
    r = api.client.patch(
        f"{ORGS}/{second['id']}",
        json={"domains": ["second.example", "shared.example"]},
        headers=admin,
    )
    assert (r.status_code, r.json()["code"]) == (409, "claim_conflict")
    unchanged = api.client.get(f"{ORGS}/{second['id']}", headers=admin).json()
    assert unchanged["domains"] == ["second.example"]
    r = api.client.patch(  # an organization keeps its own claims when it changes
        f"{ORGS}/{first['id']}", json={"domains": ["shared.example", "more.example"]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["domains"] == ["more.example", "shared.example"]


def test_changes_apply_to_new_tickets_and_move_no_existing_one(api: Api) -> None:
    admin = api.headers("admin")
    org = api.organization("Movers", domains=["movers.example"])
    viewer = api.org_viewer("boss@movers.example", org["id"])
    before = api.create("a@movers.example")["number"]
    r = api.client.patch(
        f"{ORGS}/{org['id']}", json={"domains": ["new-movers.example"]}, headers=admin
    )
    assert r.status_code == 200, r.text
    after_old_domain = api.create("b@movers.example")["number"]
    early_new = api.create("c@new-movers.example")["number"]
    assert seen(api, viewer) == {before, early_new}
    assert not visible(api, after_old_domain, viewer)


def test_deleted_organization_shows_nothing_and_is_gone(api: Api) -> None:
    admin = api.headers("admin")
    org = api.organization("Gone", domains=["gone.example"])
    number = api.create("a@gone.example")["number"]
    viewer = api.org_viewer("boss@gone.example", org["id"])
    assert visible(api, number, viewer)
    assert api.client.delete(f"{ORGS}/{org['id']}", headers=admin).status_code == 204
    assert not visible(api, number, viewer)
    assert seen(api, viewer) == set()
    for method in ("GET", "PATCH", "DELETE"):
        r = api.client.request(method, f"{ORGS}/{org['id']}", json={"name": "x"}, headers=admin)
        assert (r.status_code, r.json()["code"]) == (404, "organization_not_found"), method
    listed = api.client.get(ORGS, headers=admin).json()["organizations"]
    assert org["id"] not in {o["id"] for o in listed}
    again = api.organization("Gone again", domains=["gone.example"])  # the claim is free
    assert again["id"] != org["id"]
    assert api.create("b@gone.example")["number"] in seen(
        api, api.org_viewer("x@gone.example", again["id"])
    )


def test_organization_api_shapes_and_validation(api: Api) -> None:
    admin = api.headers("owner")
    r = api.client.post(
        ORGS,
        json={
            "name": "  Shape   Co ",
            "members": ["Ann@Shape.example"],
            "domains": ["@SHAPE.example."],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    org: dict[str, Any] = r.json()
    assert r.headers["location"] == f"{ORGS}/{org['id']}"
    assert (org["name"], org["members"], org["domains"], org["version"]) == (
        "Shape Co",
        ["ann@shape.example"],
        ["shape.example"],
        1,
    )
    assert api.client.get(f"{ORGS}/{org['id']}", headers=api.headers("agent")).json() == org
    assert org in api.client.get(ORGS, headers=api.headers("agent")).json()["organizations"]
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "x", "members": ["not an address"]},
        {"name": "x", "domains": ["no_dots"]},
        {"name": "x", "domains": ["bad..example"]},
        {"name": "x", "extra": 1},
        {"name": "x", "domains": ["d.example"] * 101},
    ):
        r = api.client.post(ORGS, json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = api.client.patch(f"{ORGS}/{org['id']}", json={"name": None}, headers=admin)
    assert r.status_code == 422
    r = api.client.patch(f"{ORGS}/{org['id']}", json={"name": "Shape Co"}, headers=admin)
    assert (r.status_code, r.json()["version"]) == (200, 1)  # nothing changed, no event
    assert api.client.get(f"{ORGS}/not-a-uuid", headers=admin).status_code == 422


def test_organization_changes_are_events(api: Api) -> None:
    """Each change is an event with its actor; the ticket's creation event names its
    organization (so replays and consumers need no lookup)."""
    from services.ticket_service.application.envelopes import to_envelope

    admin = api.headers("admin")
    org = api.organization("Audited", domains=["audited.example"])
    api.client.patch(f"{ORGS}/{org['id']}", json={"name": "Audited Inc"}, headers=admin)
    api.client.delete(f"{ORGS}/{org['id']}", headers=admin)
    app = api.client.app.state.services.get().tickets  # type: ignore[attr-defined]
    from uuid import UUID

    envelopes = [to_envelope(e) for e in app.events.get(UUID(org["id"]))]
    assert [e.event_type for e in envelopes if e] == [
        "OrganizationCreated",
        "OrganizationChanged",
        "OrganizationDeleted",
    ]
    created, changed, deleted = envelopes
    assert created is not None and changed is not None and deleted is not None
    assert created.model_dump(mode="json")["data"] == {
        "name": "Audited",
        "members": [],
        "domains": ["audited.example"],
        "created_by": {
            "role": "admin",
            "email": "adam@helpdesk.example.com",
            "sub": "adam@helpdesk.example.com",
        },
    }
    assert changed.model_dump(mode="json")["data"]["name"] == "Audited Inc"
    assert deleted.model_dump(mode="json")["data"]["deleted_by"]["role"] == "admin"
    assert {str(e.ticket_id) for e in envelopes if e} == {org["id"]}


def test_a_new_requester_brings_the_ticket_into_their_organization(api: Api) -> None:
    agent = api.headers("agent")
    mover = api.organization("Mover From", domains=["mover-from.example"])
    target = api.organization("Mover To", domains=["mover-to.example"])
    number = api.create("a@mover-from.example")["number"]
    from_viewer = api.org_viewer("x@mover-from.example", mover["id"])
    to_viewer = api.org_viewer("x@mover-to.example", target["id"])
    assert visible(api, number, from_viewer)
    for requester, sees, org in [
        ("b@mover-to.example", to_viewer, target["id"]),
        ("stranger@gmail.com", None, None),
    ]:
        r = api.client.patch(
            f"/api/v1/tickets/{number}", json={"requester": requester}, headers=agent
        )
        assert (r.status_code, r.json()["organization_id"]) == (200, org), r.text
        for viewer in (from_viewer, to_viewer):
            assert visible(api, number, viewer) is (viewer is sees)
    events = api.client.get(f"/api/v1/tickets/{number}/events", headers=agent).json()["events"]
    moves = [e["data"]["changes"].get("organization_id") for e in events[1:]]
    assert moves == [target["id"], None]


def test_a_retried_create_with_its_idempotency_key_makes_one_organization(api: Api) -> None:
    body = {"name": "Retried", "domains": ["retried.example"]}
    headers = {**api.headers("admin"), "Idempotency-Key": "org-retry-1"}
    first = api.client.post(ORGS, json=body, headers=headers)
    again = api.client.post(ORGS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    listed = api.client.get(ORGS, headers=headers).json()["organizations"]
    assert [o["id"] for o in listed if o["name"] == "Retried"] == [first.json()["id"]]
    other_caller = {**api.headers("owner"), "Idempotency-Key": "org-retry-1"}
    r = api.client.post(ORGS, json=body, headers=other_caller)  # keys are the caller's own
    assert (r.status_code, r.json()["code"]) == (409, "claim_conflict")
