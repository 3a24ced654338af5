"""Strict sender parsing: the CVE-2023-27043 shapes never attribute the mail to ann."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.email_ingest.domain.message import parse_email
from services.email_ingest.domain.sender import parse_sender

ANN = "ann@example.com"

# Each of these names ann somewhere but is really from mallory, or cannot be told.
TRICKS = [
    "ann@example.com <mallory@evil.example>",
    '"ann@example.com" <mallory@evil.example>',
    "ann@example.com, mallory@evil.example",
    "mallory@evil.example, ann@example.com",
    "alice@example.org)<mallory@evil.example>, ann@example.com",
    "ann@example.com)<mallory@evil.example>",
    "=?utf-8?q?ann=40example.com?= <mallory@evil.example>",
    "=?utf-8?b?YW5uQGV4YW1wbGUuY29tIDxhbm5AZXhhbXBsZS5jb20+?= <mallory@evil.example>",
    "(ann@example.com) mallory@evil.example",
    "<<ann@example.com>> mallory@evil.example",
    "mallory@evil.example <ann@example.com>",
    '"Ann <ann@example.com>" <mallory@evil.example>',
    "Ann <ann@example.com> <mallory@evil.example>",
    '"ann@example.com\\" <mallory@evil.example>',
    "ann@example.com\x00<mallory@evil.example>",
    "ann@example.com <mallory@evil.example",
    "group: ann@example.com, mallory@evil.example;",
]


def from_header(value: str) -> bytes:
    return f"From: {value}\r\nTo: support@helpdesk.localhost\r\nSubject: hi\r\n\r\nx".encode()


@pytest.mark.parametrize("value", TRICKS)
def test_known_tricks_never_yield_ann(value: str) -> None:
    parsed = parse_email(from_header(value))
    assert parsed.sender != ANN
    assert parsed.sender in (None, "mallory@evil.example")
    if parsed.sender is None:
        assert parsed.sender_problem  # an ambiguity, which suspends the mail


@pytest.mark.parametrize(
    ("value", "address", "name"),
    [
        ('"ann@example.com" <mallory@evil.example>', "mallory@evil.example", "ann@example.com"),
        ("=?utf-8?q?ann=40example.com?= <mallory@evil.example>", "mallory@evil.example", ""),
        ("Ann Example <Ann@Example.com>", ANN, "Ann Example"),
        ('"Example, Ann" <ann@example.com>', ANN, "Example, Ann"),
        ("ann@example.com (Ann)", ANN, ""),
        ("<ann@example.com>", ANN, ""),
        ("=?iso-8859-1?q?J=FCrgen?= <j@example.com>", "j@example.com", "Jürgen"),
    ],
)
def test_single_addresses_are_read(value: str, address: str, name: str) -> None:
    parsed = parse_email(from_header(value))
    assert parsed.sender == address
    assert parsed.sender_problem is None
    if name:
        assert parsed.sender_name == name


def test_folded_and_eight_bit_from_headers() -> None:
    raw = "From: Jörg\r\n Müller <j@example.com>\r\n\r\nx".encode()
    assert parse_email(raw).sender == "j@example.com"


def test_two_from_headers_are_ambiguous() -> None:
    raw = b"From: ann@example.com\r\nFrom: mallory@evil.example\r\n\r\nx"
    parsed = parse_email(raw)
    assert (parsed.sender, parsed.sender_problem) == (None, "2 From headers")


def test_sender_header_only_when_from_names_nobody() -> None:
    assert parse_sender([], ["ann@example.com"]).address == ANN
    assert parse_sender(["undisclosed-recipients:;"], ["ann@example.com"]).address == ANN
    ambiguous = parse_sender(["ann@example.com <mallory@evil.example>"], ["ann@example.com"])
    assert ambiguous.address is None and ambiguous.problem


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(alphabet=st.characters(codec="ascii"), max_size=12),
    after=st.text(alphabet=st.characters(codec="ascii"), max_size=12),
)
def test_ann_is_only_the_sender_when_she_is_the_only_address(before: str, after: str) -> None:
    """Whatever surrounds ann's address next to mallory's, the mail is never ann's."""
    value = f"{before}ann@example.com{after}<mallory@evil.example>"
    parsed = parse_email(from_header(value.replace("\r", " ").replace("\n", " ")))
    assert parsed.sender != ANN


@pytest.mark.parametrize("value", ["no-at-sign", "<<<>>>", '"quoted" <>', "undisclosed:;"])
def test_a_from_without_any_address_is_as_if_missing(value: str) -> None:
    """Nothing to attribute, nothing ambiguous: the envelope sender or ``no_sender``."""
    parsed = parse_email(from_header(value))
    assert (parsed.sender, parsed.sender_problem) == (None, None)


@pytest.mark.parametrize("value", ["user@", "@example.com", "a@b@c.example.com"])
def test_a_broken_address_is_ambiguous(value: str) -> None:
    parsed = parse_email(from_header(value))
    assert parsed.sender is None and parsed.sender_problem
