"""Plus-addressed ticket numbers are ASCII digits: any other tag is no ticket, never a crash."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from services.email_ingest.domain.addresses import SupportAddress

SUPPORT = SupportAddress("support@helpdesk.localhost")


@given(tag=st.text(st.characters(exclude_characters="@"), max_size=14))
@example(tag="¹")
@example(tag="²³")
@example(tag="12")
def test_any_plus_tag_is_a_number_or_none(tag: str) -> None:
    number = SUPPORT.ticket_number(f"support+{tag}@helpdesk.localhost")
    ascii_number = tag.isascii() and tag.isdigit() and len(tag) <= 12
    assert number == (int(tag) if ascii_number else None)
