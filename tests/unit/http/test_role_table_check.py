"""The start-up check that every API route is behind ``authorize`` and in the role table
(routers carry no router-wide dependency, so a route without ``claims`` would be open)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from services.ticket_service.adapters.http.app import API_ROUTERS, check_role_table
from services.ticket_service.adapters.http.auth import Claims
from services.ticket_service.adapters.http.deps import AuthorizedClaims
from services.ticket_service.adapters.http.permissions import ROLE_TABLE


def test_the_api_routes_pass() -> None:
    check_role_table()
    names = {r.name for router in API_ROUTERS for r in router.routes}  # type: ignore[attr-defined]
    assert names == set(ROLE_TABLE)


def test_a_route_without_authorize_is_refused() -> None:
    router = APIRouter()

    @router.get("/open", name="create_ticket")
    async def open_route() -> int:
        return 1

    with pytest.raises(RuntimeError, match="without the authorize dependency"):
        check_role_table([*API_ROUTERS, router])


def test_a_route_missing_from_the_role_table_is_refused() -> None:
    router = APIRouter()

    @router.get("/unlisted", name="unlisted_operation")
    async def unlisted(claims: AuthorizedClaims) -> str:
        assert isinstance(claims, Claims)
        return claims.sub

    with pytest.raises(RuntimeError, match="missing from the role table"):
        check_role_table([router])
