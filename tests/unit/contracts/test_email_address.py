"""Every syntactically valid address is an address (intranet and special-use domains too);
syntax errors are refused; valid addresses are remembered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic import EmailStr as PydanticEmailStr

from contracts.commands import CommandAdapter, CreateTicket
from contracts.common import TicketChanges, TicketFields
from contracts.email_address import EmailStr, is_valid_address, normalized_email


class Ours(BaseModel):
    email: EmailStr


class Theirs(BaseModel):
    email: PydanticEmailStr


INTRANET = [
    "bob@customer.test",
    "ops@corp.local",
    "it@intranet.internal",
    "dev@box.localhost",
    "root@localhost",
    "root@mailhost",
    "x@example.invalid",
    "svc@node.home.arpa",
    "hidden@abcdefghijklmnop.onion",
    "ops@corp.lan",
    "a@b",
]
"""Special-use (RFC 6761, 6762, 7686, 8375), private and single-label domains."""

SYNTAX_ERRORS = [
    "not-an-address",
    "two@@example.com",
    "@example.com",
    "user@",
    "user@-corp.local",
    "user@corp..local",
    "user@exa_mple.local",
    "a b@corp.local",
    "line\nbreak@corp.local",
    "x" * 300 + "@example.com",
    "x@" + "a" * 64 + ".local",
    '"quoted"@corp.local',
    "user@[10.0.0.1]",
    "",
]

DELIVERABLE = [
    "r@example.com",
    "R.Someone+tag@Example.COM",
    "  padded@example.com  ",
    "Jane Doe <jane@example.com>",
    "josé@exämple.com",
]


@pytest.mark.parametrize("address", INTRANET)
def test_intranet_and_special_use_addresses_are_addresses(address: str) -> None:
    assert Ours(email=address).email == address.lower()
    assert is_valid_address(address)


@pytest.mark.parametrize("address", SYNTAX_ERRORS)
def test_syntax_errors_are_refused(address: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Ours(email=address)
    [error] = raised.value.errors()
    assert error["type"] == "value_error"
    assert error["msg"].startswith("value is not a valid email address: ")
    assert not is_valid_address(address)


@pytest.mark.parametrize("address", DELIVERABLE)
def test_globally_deliverable_addresses_normalise_as_pydantic_does(address: str) -> None:
    # twice: the second answer may come from memory
    assert Ours(email=address).email == Theirs(email=address).email
    assert Ours(email=address).email == Theirs(email=address).email


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"  # IDNA's reserved "xn--"-style labels
)
_LOCAL = st.from_regex(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-z0-9_+-]{1,10}){0,2}", fullmatch=True
)
_TLDS = st.sampled_from(["test", "local", "internal", "localhost", "invalid", "arpa", "lan", "com"])


@settings(max_examples=200, deadline=None)
@given(local=_LOCAL, labels=st.lists(_LABEL, min_size=0, max_size=3), tld=_TLDS)
def test_any_dot_atom_address_on_any_domain_is_taken(
    local: str, labels: list[str], tld: str
) -> None:
    address = f"{local}@{'.'.join([*labels, tld])}"
    assert Ours(email=address).email == address


@pytest.mark.parametrize("address", INTRANET[:4])
def test_requesters_ccs_and_commands_take_intranet_addresses(address: str) -> None:
    fields = TicketFields(subject="s", requester=address, cc=[address])
    assert (fields.requester, fields.cc) == (address, [address])
    assert TicketChanges(requester=address).requester == address
    command = CommandAdapter.validate_python(
        {
            "command_id": "6f1c2a52-2c0e-4c58-9f0e-0e1d0c9b2a11",
            "command_type": "CreateTicket",
            "issued_at": "2026-01-01T00:00:00Z",
            "actor": {"role": "integration"},
            "data": {"subject": "s", "requester": address, "cc": [address]},
        }
    )
    assert isinstance(command, CreateTicket)
    assert command.data.requester == address


def test_same_json_schema_as_pydantic_email_str() -> None:
    assert Ours.model_json_schema()["properties"] == Theirs.model_json_schema()["properties"]


def test_a_valid_address_is_validated_once() -> None:
    address = "remembered-once@example.com"
    TicketFields(subject="s", requester=address)
    hits = normalized_email.cache_info().hits
    TicketFields(subject="s", requester=address, cc=[address])
    assert normalized_email.cache_info().hits == hits + 2
