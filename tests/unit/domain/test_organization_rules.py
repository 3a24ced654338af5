"""The pure rules of organizations: domain and address normalization, free-mail refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ticket_service.domain import errors
from services.ticket_service.domain.free_mail import FREE_MAIL_DOMAINS, is_free_mail
from services.ticket_service.domain.organization import (
    Organization,
    OrganizationDirectory,
    claimable_domains,
    normalize_domain,
    normalize_member,
)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
COMPANY_DOMAIN = st.builds(lambda a, b: f"{a}.{b}.example", LABEL, LABEL)


def test_the_shipped_list_is_a_few_hundred_well_formed_domains() -> None:
    assert len(FREE_MAIL_DOMAINS) >= 300
    assert {"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"} <= (
        FREE_MAIL_DOMAINS
    )
    assert all(normalize_domain(d) == d for d in FREE_MAIL_DOMAINS)


@given(
    domain=st.sampled_from(sorted(FREE_MAIL_DOMAINS)),
    prefix=st.sampled_from(["", "mail.", "a.b."]),
    upper=st.booleans(),
)
def test_free_mail_domains_and_their_subdomains_are_never_claimable(
    domain: str, prefix: str, upper: bool
) -> None:
    claimed = prefix + (domain.upper() if upper else domain)
    with pytest.raises(errors.FreeMailDomain):
        claimable_domains(["acme.example", claimed])


@given(domains=st.lists(COMPANY_DOMAIN, max_size=5))
def test_other_domains_are_claimable_normalized_once(domains: list[str]) -> None:
    claimed = claimable_domains([f" @{d.upper()}. " for d in domains])
    assert claimed == sorted(set(domains))
    assert claimable_domains(claimed) == claimed
    assert not any(is_free_mail(d) for d in claimed)


@pytest.mark.parametrize(
    "bad", ["", "localhost", "no_underscore.example", "-x.example", "a..example", "1.2.3.4", "é"]
)
def test_malformed_domains_are_refused(bad: str) -> None:
    with pytest.raises(errors.InvalidRequest):
        normalize_domain(bad)


def test_internationalized_domains_are_kept_in_idna_form() -> None:
    assert normalize_domain("Bücher.Example") == "xn--bcher-kva.example"
    assert normalize_member("Ann@Bücher.Example") == "ann@xn--bcher-kva.example"
    with pytest.raises(errors.InvalidRequest):
        normalize_member("no-at-sign.example")


def test_an_internationalized_requester_finds_the_claim_of_their_domain() -> None:
    org = Organization.create(
        name="Bücher",
        members=["chef@bücher.example"],
        domains=["bücher.example"],
        actor={"role": "admin"},
        at=datetime.now(UTC),
        meta={},
    )
    directory = OrganizationDirectory()
    directory.record(org)
    for requester in ("ann@bücher.example", "ann@xn--bcher-kva.example", "Chef@Bücher.example"):
        assert directory.organization_for(requester) == str(org.id), requester
    assert directory.organization_for("ann@bucher.example") is None
