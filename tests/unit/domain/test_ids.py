"""The deterministic ids stay exactly ``uuid5(NAMESPACE, ...)``: stored aggregates are found
by them, so a faster derivation must give the same ids."""

from uuid import uuid5

import pytest

from services.ticket_service.domain.ids import NAMESPACE, receipt_id_for, ticket_id_for


@pytest.mark.parametrize("number", [1, 2, 42, 10**6, 2**63])
def test_ticket_id_is_uuid5_of_the_number(number: int) -> None:
    assert ticket_id_for(number) == uuid5(NAMESPACE, f"ticket:{number}")
    assert ticket_id_for(number).version == 5


@pytest.mark.parametrize(
    "key",
    [
        "command:0b1e6a52-4a8f-4a4e-9d43-0c52f0a2f3a1",
        "idem:agent:abc",
        "follow-up:7:<é@ü.example>",
        "",
    ],
)
def test_receipt_id_is_uuid5_of_the_key(key: str) -> None:
    assert receipt_id_for(key) == uuid5(NAMESPACE, f"receipt:{key}")
    assert receipt_id_for(key).version == 5
