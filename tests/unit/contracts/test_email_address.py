"""Remembered email validation behaves exactly like ``pydantic.EmailStr``."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from pydantic import EmailStr as PydanticEmailStr

from contracts.common import TicketFields
from contracts.email_address import EmailStr, normalized_email


class Ours(BaseModel):
    email: EmailStr


class Theirs(BaseModel):
    email: PydanticEmailStr


ADDRESSES = [
    "r@example.com",
    "R.Someone+tag@Example.COM",
    "  padded@example.com  ",
    "Jane Doe <jane@example.com>",
    "josé@exämple.com",
    "not-an-address",
    "a@b",
    "two@@example.com",
    "line\nbreak@example.com",
    "x" * 300 + "@example.com",
    "",
]


def _outcome(model: type[BaseModel], value: str) -> object:
    try:
        return model(email=value).model_dump()
    except ValidationError as error:
        return [(e["type"], e["msg"]) for e in error.errors()]


@pytest.mark.parametrize("value", ADDRESSES)
def test_same_outcome_as_pydantic_email_str(value: str) -> None:
    # twice: the second answer may come from memory
    assert _outcome(Ours, value) == _outcome(Theirs, value)
    assert _outcome(Ours, value) == _outcome(Theirs, value)


def test_same_json_schema_as_pydantic_email_str() -> None:
    assert Ours.model_json_schema()["properties"] == Theirs.model_json_schema()["properties"]


def test_a_valid_address_is_validated_once() -> None:
    address = "remembered-once@example.com"
    TicketFields(subject="s", requester=address)
    hits = normalized_email.cache_info().hits
    TicketFields(subject="s", requester=address, cc=[address])
    assert normalized_email.cache_info().hits == hits + 2
