"""Random sequences of organization changes and ticket creations (HTTP's operation, a Kafka
``CreateTicket``, follow-ups) against the application, checked against a small model:

- a new ticket gets the organization listing its requester as a member, else the one
  claiming its domain, else none — whichever way it is created;
- an address or a domain belongs to at most one organization; a free-mail domain is never
  claimed; only admins and owners change organizations; a refused change changes nothing;
- existing tickets never move when organizations change or go; a ticket whose requester
  changes goes to the new requester's organization of now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from contracts import commands as cmd
from contracts.common import Actor, TicketFields
from services.ticket_service.application import organizations
from services.ticket_service.application.context import RequestContext
from services.ticket_service.application.messagebus import handle_commands
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.domain import errors
from services.ticket_service.domain.free_mail import is_free_mail

MEMBERS = ["M1@acme.example", "m2@beta.example", "pat@gmail.com"]
DOMAINS = ["acme.example", "beta.example", "gmail.com", "mail.yahoo.com"]
"""``gmail.com`` and ``mail.yahoo.com`` (a subdomain of a free-mail domain) are refused."""
REQUESTERS = [*MEMBERS, "x@acme.example", "w@gmail.com", "v@nowhere.example"]
ROLES = ["admin", "owner", "agent", "supervisor"]


class Model:
    def __init__(self) -> None:
        self.orgs: dict[str, tuple[set[str], set[str]]] = {}

    def expected_error(
        self, role: str, members: set[str], domains: set[str], own: str | None = None
    ) -> type[errors.DomainError] | None:
        if role not in ("admin", "owner"):
            return errors.NotPermitted
        if any(is_free_mail(d) for d in domains):
            return errors.FreeMailDomain
        for org_id, (m, d) in self.orgs.items():
            if org_id != own and (m & members or d & domains):
                return errors.ClaimConflict
        return None

    def organization_of(self, requester: str) -> str | None:
        address = requester.lower()
        for org_id, (members, _) in self.orgs.items():
            if address in members:
                return org_id
        for org_id, (_, domains) in self.orgs.items():
            if address.rsplit("@", 1)[1] in domains:
                return org_id
        return None


class Organizations(RuleBasedStateMachine):
    org_ids = Bundle("org_ids")

    def __init__(self) -> None:
        super().__init__()
        self.app = TicketApplication()
        self.model = Model()
        self.tickets: dict[int, str | None] = {}
        self.active: list[int] = []

    def ctx(self, role: str) -> RequestContext:
        return RequestContext(
            actor=Actor(role=role, email=f"{role}@helpdesk.example"), at=datetime.now(UTC)
        )

    def attempt(self, expected: type[errors.DomainError] | None, action: Any) -> Any:
        before = self.directory_state()
        try:
            result = action()
        except errors.DomainError as error:
            assert type(error) is expected, (error, expected)
            assert self.directory_state() == before, "a refused change changed the directory"
            return None
        assert expected is None, f"expected {expected.__name__}"
        return result

    def directory_state(self) -> Any:
        directory = self.app.organizations.current()
        if directory is None:
            return None
        return (dict(directory.by_member), dict(directory.by_domain), len(directory.entries))

    @rule(
        target=org_ids,
        role=st.sampled_from(ROLES),
        members=st.sets(st.sampled_from(MEMBERS), max_size=2),
        domains=st.sets(st.sampled_from(DOMAINS), max_size=2),
    )
    def create(self, role: str, members: set[str], domains: set[str]) -> str:
        members_lc = {m.lower() for m in members}
        expected = self.model.expected_error(role, members_lc, domains)
        org = self.attempt(
            expected,
            lambda: organizations.create_organization(
                self.app,
                self.ctx(role),
                name="Org",
                members=sorted(members),
                domains=sorted(domains),
            ),
        )
        if org is None:
            return str(uuid4())  # a never-created id: later rules get "not found"
        self.model.orgs[str(org.id)] = (members_lc, set(domains))
        return str(org.id)

    @rule(
        org_id=org_ids,
        role=st.sampled_from(ROLES),
        members=st.none() | st.sets(st.sampled_from(MEMBERS), max_size=2),
        domains=st.none() | st.sets(st.sampled_from(DOMAINS), max_size=2),
    )
    def change(
        self, org_id: str, role: str, members: set[str] | None, domains: set[str] | None
    ) -> None:
        current = self.model.orgs.get(org_id)
        new_members = {m.lower() for m in members} if members is not None else None
        if current is None:  # looked up first: an unknown id is not found, whoever asks
            expected: type[errors.DomainError] | None = errors.OrganizationNotFound
        else:
            expected = self.model.expected_error(
                role,
                new_members if new_members is not None else current[0],
                domains if domains is not None else current[1],
                own=org_id,
            )
        org = self.attempt(
            expected,
            lambda: organizations.change_organization(
                self.app,
                UUID(org_id),
                self.ctx(role),
                members=sorted(members) if members is not None else None,
                domains=sorted(domains) if domains is not None else None,
            ),
        )
        if org is not None and current is not None:
            self.model.orgs[org_id] = (
                new_members if new_members is not None else current[0],
                domains if domains is not None else current[1],
            )

    @rule(org_id=org_ids, role=st.sampled_from(ROLES))
    def delete(self, org_id: str, role: str) -> None:
        if org_id not in self.model.orgs:
            expected: type[errors.DomainError] | None = errors.OrganizationNotFound
        elif role not in ("admin", "owner"):
            expected = errors.NotPermitted
        else:
            expected = None
        self.attempt(
            expected,
            lambda: organizations.delete_organization(self.app, UUID(org_id), self.ctx(role)),
        )
        if expected is None:
            del self.model.orgs[org_id]

    @rule(requester=st.sampled_from(REQUESTERS), via=st.sampled_from(["http", "kafka"]))
    def create_ticket(self, requester: str, via: str) -> None:
        ctx = self.ctx("agent")
        if via == "http":
            fields = TicketFields(subject="s", requester=requester)
            ticket = self.app.create_ticket(fields, ctx, channel="agent")
            number = ticket.number
        else:
            command = cmd.CreateTicket(
                command_id=uuid4(),
                issued_at=ctx.at,
                actor=ctx.actor,
                data=cmd.CreateTicketData(subject="s", requester=requester),
            )
            (outcome,) = handle_commands(self.app, [command])
            assert outcome.ok and outcome.ticket_number is not None
            number = outcome.ticket_number
        expected = self.model.organization_of(requester)
        assert self.app.get_ticket(number).organization_id == expected, (requester, via)
        self.tickets[number] = expected
        self.active.append(number)

    @precondition(lambda self: bool(self.active))
    @rule(
        data=st.data(),
        requester=st.sampled_from(REQUESTERS),
        via=st.sampled_from(["http", "kafka"]),
    )
    def change_requester(self, data: st.DataObject, requester: str, via: str) -> None:
        number = data.draw(st.sampled_from(self.active))
        previous = self.app.get_ticket(number).requester
        ctx = self.ctx("agent")
        if via == "http":
            self.app.update_ticket(number, {"requester": requester}, ctx)
        else:
            command = cmd.UpdateTicket(
                command_id=uuid4(),
                issued_at=ctx.at,
                actor=ctx.actor,
                ticket_number=number,
                data=cmd.UpdateTicketData(changes={"requester": requester}),
            )
            (outcome,) = handle_commands(self.app, [command])
            assert outcome.ok, outcome.error
        if previous.lower() != requester.lower():  # no change, no event: it stays put
            self.tickets[number] = self.model.organization_of(requester)
        assert self.app.get_ticket(number).organization_id == self.tickets[number]

    @rule(requester=st.sampled_from(REQUESTERS))
    def follow_up(self, requester: str) -> None:
        """A follow-up is a new ticket: its requester's organization of now."""
        source = self.app.create_ticket(
            TicketFields(subject="s", requester=requester), self.ctx("agent"), channel="agent"
        )
        self.tickets[source.number] = self.model.organization_of(requester)
        self.app.update_ticket(source.number, {"status": "closed"}, self.ctx("integration"))
        follow_up = self.app.create_follow_up(
            source.number, self.ctx("agent"), body="again", channel="agent"
        )
        expected = self.model.organization_of(requester)
        assert follow_up.organization_id == expected
        self.tickets[follow_up.number] = expected

    @invariant()
    def tickets_never_move(self) -> None:
        for number, organization_id in self.tickets.items():
            assert self.app.get_ticket(number).organization_id == organization_id

    @invariant()
    def directory_matches_model(self) -> None:
        directory = self.app.organizations.current()
        by_member = dict(directory.by_member) if directory else {}
        by_domain = dict(directory.by_domain) if directory else {}
        assert by_member == {m: o for o, (ms, _) in self.model.orgs.items() for m in ms}
        assert by_domain == {d: o for o, (_, ds) in self.model.orgs.items() for d in ds}
        assert not any(is_free_mail(d) for d in by_domain)


Organizations.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrganizations = Organizations.TestCase
