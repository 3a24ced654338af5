"""Organizations (design §4, issue #12 item 9): records kept by admins and owners, never
derived from an email domain.

An organization has a name, explicit member addresses and claimed email domains. A ticket
belongs to the organization of its requester *when it is created* (an explicit member
first, then a claimed domain) and keeps it: later changes to organizations move no
existing ticket. Free-mail domains can never be claimed (:mod:`.free_mail`).

:class:`OrganizationDirectory` is the one index of every organization's claims (a single
aggregate with a fixed id, saved with each organization change in the same transaction):
its version guards the rule "an address or a domain belongs to at most one organization"
against concurrent writers, and the application resolves a new ticket's organization
from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from contracts.common import POLICY_ADMIN_ROLES, Role
from contracts.limits import ORGANIZATION_MEMBERS_BYTES_MAX, json_size
from services.ticket_service.domain import errors
from services.ticket_service.domain.free_mail import is_free_mail
from services.ticket_service.domain.ids import ORGANIZATION_DIRECTORY_ID
from services.ticket_service.domain.snapshot import TypedSnapshot

Meta = dict[str, Any]
NAME_MAX = 200
MAX_MEMBERS = 10_000
MAX_DOMAINS = 100
MANAGER_ROLES = POLICY_ADMIN_ROLES
"""Who creates, changes and deletes organizations: admins and owners."""


def normalize_domain(domain: str) -> str:
    """Lower case, no leading ``@`` or trailing dot, IDNA (``bücher.example`` →
    ``xn--bcher-kva.example``); at least two labels. Raises InvalidRequest otherwise."""
    text = domain.strip().lower().removeprefix("@").rstrip(".")
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_form = ""
    labels = ascii_form.split(".")
    if (
        len(labels) < 2
        or len(ascii_form) > 253
        or not all(_is_label(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise errors.InvalidRequest(f"{domain!r} is not an email domain.")
    return ascii_form


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    )


def normalize_member(address: str) -> str:
    text = address.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        raise errors.InvalidRequest(f"{address!r} is not an email address.")
    return f"{local}@{normalize_domain(domain)}"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def claimable_domains(domains: Iterable[str]) -> list[str]:
    """The domains normalized, sorted, without duplicates; a free-mail domain is refused."""
    result = sorted({normalize_domain(d) for d in domains})
    free = [d for d in result if is_free_mail(d)]
    if free:
        raise errors.FreeMailDomain(
            f"Free-mail domains can never be claimed by an organization: {', '.join(free)}. "
            "Add their users as members instead."
        )
    if len(result) > MAX_DOMAINS:
        raise errors.InvalidRequest(f"An organization claims at most {MAX_DOMAINS} domains.")
    return result


def member_addresses(members: Iterable[str]) -> list[str]:
    result = sorted({normalize_member(m) for m in members})
    if len(result) > MAX_MEMBERS:
        raise errors.InvalidRequest(f"An organization has at most {MAX_MEMBERS} members.")
    size = json_size(result)
    if size > ORGANIZATION_MEMBERS_BYTES_MAX:
        raise errors.InvalidRequest(
            f"An organization's members are {size} bytes as JSON; at most "
            f"{ORGANIZATION_MEMBERS_BYTES_MAX} are allowed (claim a domain instead)."
        )
    return result


def organization_name(name: str) -> str:
    text = " ".join(name.split())
    if not 0 < len(text) <= NAME_MAX:
        raise errors.InvalidRequest(f"An organization's name has 1 to {NAME_MAX} characters.")
    return text


def check_manager(actor: dict[str, Any]) -> None:
    if Role(actor["role"]) not in MANAGER_ROLES:
        raise errors.NotPermitted("Only admins and owners manage organizations.")


class OrganizationState(TypedDict, total=False):
    """Every attribute of an :class:`Organization` (what a snapshot restores)."""

    name: str
    members: list[str]
    domains: list[str]
    created_at: datetime
    updated_at: datetime
    deleted: bool


class Organization(Aggregate):
    Snapshot = TypedSnapshot
    snapshot_state = OrganizationState

    @classmethod
    def create(
        cls,
        *,
        name: str,
        members: Iterable[str],
        domains: Iterable[str],
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
    ) -> Organization:
        check_manager(actor)
        return cls._create(
            cls.Created,
            id=uuid4(),
            name=organization_name(name),
            members=member_addresses(members),
            domains=claimable_domains(domains),
            actor=actor,
            at=at,
            meta=meta,
        )

    @event("Created")
    def __init__(
        self,
        *,
        name: str,
        members: list[str],
        domains: list[str],
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
    ) -> None:
        self.name = name
        self.members = list(members)
        self.domains = list(domains)
        self.created_at = at
        self.updated_at = at
        self.deleted = False

    def change(
        self,
        *,
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
        name: str | None = None,
        members: Iterable[str] | None = None,
        domains: Iterable[str] | None = None,
    ) -> bool:
        """Replace the name, the members and/or the domains (``None``: unchanged); the event
        carries the whole new state. Nothing different, no event (returns False)."""
        check_manager(actor)
        self._check_exists()
        new_name = self.name if name is None else organization_name(name)
        new_members = self.members if members is None else member_addresses(members)
        new_domains = self.domains if domains is None else claimable_domains(domains)
        if (new_name, new_members, new_domains) == (self.name, self.members, self.domains):
            return False
        self._changed(
            name=new_name, members=new_members, domains=new_domains, actor=actor, at=at, meta=meta
        )
        return True

    def delete(self, *, actor: dict[str, Any], at: datetime, meta: Meta) -> None:
        check_manager(actor)
        self._check_exists()
        self._deleted(actor=actor, at=at, meta=meta)

    def _check_exists(self) -> None:
        if self.deleted:
            raise errors.OrganizationNotFound(f"No organization {self.id}.")

    @event("Changed")
    def _changed(
        self,
        *,
        name: str,
        members: list[str],
        domains: list[str],
        actor: dict[str, Any],
        at: datetime,
        meta: Meta,
    ) -> None:
        self.name = name
        self.members = list(members)
        self.domains = list(domains)
        self.updated_at = at

    @event("Deleted")
    def _deleted(self, *, actor: dict[str, Any], at: datetime, meta: Meta) -> None:
        self.deleted = True
        self.updated_at = at

    def entry(self) -> dict[str, Any]:
        """The organization as the directory lists it (plain JSON values)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "members": list(self.members),
            "domains": list(self.domains),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }


class DirectoryState(TypedDict, total=False):
    """Every attribute of the :class:`OrganizationDirectory` (what a snapshot restores)."""

    entries: dict[str, dict[str, Any]]
    by_member: dict[str, str]
    by_domain: dict[str, str]


class OrganizationDirectory(Aggregate):
    """Every live organization and who it claims: member address → organization id,
    claimed domain → organization id."""

    Snapshot = TypedSnapshot
    snapshot_state = DirectoryState

    @staticmethod
    def create_id() -> UUID:
        return ORGANIZATION_DIRECTORY_ID

    @event("Created")
    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.by_member: dict[str, str] = {}
        self.by_domain: dict[str, str] = {}

    # ---- queries --------------------------------------------------------------------

    def organization_for(self, requester: str) -> str | None:
        """The organization a new ticket of ``requester`` belongs to: the one listing the
        address as a member, else the one claiming its domain, else none."""
        address = requester.lower()
        if not address.isascii():  # an internationalized domain: claims are in IDNA form
            try:
                address = normalize_member(address)
            except errors.InvalidRequest:
                return None
        found = self.by_member.get(address)
        if found is None:
            found = self.by_domain.get(domain_of(address))
        return found

    def exists(self, organization_id: str) -> bool:
        return organization_id in self.entries

    # ---- commands -------------------------------------------------------------------

    def record(self, organization: Organization) -> None:
        """Index the organization's current state (new or changed); an address or a
        domain another organization holds is refused."""
        own = str(organization.id)
        taken = [
            f"member {m} ({self.entries[o]['name']})"
            for m in organization.members
            if (o := self.by_member.get(m)) not in (None, own)
        ] + [
            f"domain {d} ({self.entries[o]['name']})"
            for d in organization.domains
            if (o := self.by_domain.get(d)) not in (None, own)
        ]
        if taken:
            raise errors.ClaimConflict(
                "Already claimed by another organization: " + "; ".join(taken) + "."
            )
        self._indexed(entry=organization.entry())

    def remove(self, organization_id: str) -> None:
        if organization_id in self.entries:
            self._removed(organization_id=organization_id)

    # ---- events (apply only) -----------------------------------------------------------

    @event("Indexed")
    def _indexed(self, *, entry: dict[str, Any]) -> None:
        self._unindex(entry["id"])
        self.entries[entry["id"]] = entry
        for member in entry["members"]:
            self.by_member[member] = entry["id"]
        for domain in entry["domains"]:
            self.by_domain[domain] = entry["id"]

    @event("Removed")
    def _removed(self, *, organization_id: str) -> None:
        self._unindex(organization_id)

    def _unindex(self, organization_id: str) -> None:
        old = self.entries.pop(organization_id, None)
        if old is None:
            return
        for member in old["members"]:
            if self.by_member.get(member) == organization_id:
                del self.by_member[member]
        for domain in old["domains"]:
            if self.by_domain.get(domain) == organization_id:
                del self.by_domain[domain]
