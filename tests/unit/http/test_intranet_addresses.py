"""Requesters and CCs on intranet and special-use domains are taken by the HTTP API;
syntax errors are a 422 problem document."""

from __future__ import annotations

import pytest

from tests.unit.http.api_client import REQUESTER, Api

INTRANET = ["bob@customer.test", "ops@corp.local", "it@intranet.internal", "root@mailhost"]


@pytest.mark.parametrize("address", INTRANET)
def test_create_and_update_take_intranet_addresses(api: Api, address: str) -> None:
    ticket = api.create(requester=address, cc=[address.replace("@", "-cc@")])
    assert ticket["requester"] == address
    assert ticket["cc"] == [address.replace("@", "-cc@")]
    r = api.client.patch(
        f"/api/v1/tickets/{ticket['number']}",
        json={"requester": REQUESTER, "cc": [address]},
        headers=api.headers("agent"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["cc"] == [address]


@pytest.mark.parametrize("address", ["not-an-address", "a b@corp.local", "x@corp..local"])
def test_a_syntax_error_is_a_422_problem(api: Api, address: str) -> None:
    r = api.client.post(
        "/api/v1/tickets",
        json={"subject": "s", "requester": "ann@example.com", "cc": [address]},
        headers=api.headers("agent"),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_request"
