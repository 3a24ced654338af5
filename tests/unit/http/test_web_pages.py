"""The browser pages against the role table: every page and form of
:mod:`services.ticket_service.adapters.web.routes` is listed here with the API operation
whose role rule it applies (a new page fails :func:`test_every_page_is_listed` until it
is). Signed out, a page sends the browser to sign in; signed in with a role the operation
does not allow, it answers 403; a form without its CSRF token answers 403.

Left out, with the reason: the sign-in page and form (for everyone, signed in or not),
sign-out (any session may end itself), and the static files (public)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from services.ticket_service.adapters.http.permissions import ROLE_TABLE
from services.ticket_service.adapters.web.routes import router
from tests.unit.http.api_client import Api
from tests.unit.http.test_permission_matrix import ROLES

PAGES: dict[tuple[str, str], str] = {
    ("GET", "/agent/"): "view_all",
    ("GET", "/agent/closed"): "view_closed",
    ("POST", "/agent/bulk"): "bulk_update",
    ("GET", "/agent/tickets/{number}"): "get_ticket",
    ("POST", "/agent/tickets/{number}/update"): "update_ticket",
    ("POST", "/agent/tickets/{number}/comments"): "add_comment",
    ("POST", "/agent/tickets/{number}/follow-up"): "create_follow_up",
    ("GET", "/agent/settings"): "get_auto_close",
    ("POST", "/agent/settings"): "put_auto_close",
    ("GET", "/help/"): "list_requests",
    ("GET", "/help/new"): "create_request",
    ("POST", "/help/requests"): "create_request",
    ("GET", "/help/requests/{number}"): "get_request",
    ("POST", "/help/requests/{number}/comments"): "comment_request",
    ("POST", "/help/requests/{number}/follow-up"): "follow_up_request",
}
OPEN_TO_ALL = {
    ("GET", "/agent/sign-in"),
    ("GET", "/help/sign-in"),
    ("POST", "/sign-in"),
    ("POST", "/sign-out"),
}


def test_every_page_is_listed() -> None:
    routes = {
        (method, route.path)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert routes == set(PAGES) | OPEN_TO_ALL
    assert set(PAGES.values()) <= set(ROLE_TABLE)
    assert all(
        not route.include_in_schema for route in router.routes if isinstance(route, APIRoute)
    )


def signed_in(api: Api, role: str) -> str:
    """Sign the test client in as ``role``; returns the CSRF value of its forms."""
    api.client.cookies.clear()
    api.client.get("/agent/sign-in")
    csrf = api.client.cookies["helpdesk_csrf"]
    token = api.headers(role)["Authorization"].split()[1]
    r = api.client.post("/sign-in", data={"token": token, "csrf_token": csrf})
    assert r.status_code in (200, 403), r.text  # 403: the integration role has no pages
    return csrf


@pytest.mark.parametrize(("method", "path"), sorted(PAGES))
def test_signed_out_pages_ask_to_sign_in(api: Api, method: str, path: str) -> None:
    api.client.cookies.clear()
    r = api.client.request(method, path.replace("{number}", "1"), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] in ("/agent/sign-in", "/help/sign-in")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(PAGES))
def test_pages_follow_the_role_table(api: Api, role: str, method: str, path: str) -> None:
    number = api.create()["number"]
    csrf = signed_in(api, role)
    if role == "integration":  # never signed in: no pages for integrations
        assert "helpdesk_session" not in api.client.cookies
        return
    r = api.client.request(
        method,
        path.replace("{number}", str(number)),
        data={"csrf_token": csrf} if method == "POST" else None,
        follow_redirects=False,
    )
    allowed = role in {r.value for r in ROLE_TABLE[PAGES[method, path]]}
    if allowed:
        assert r.status_code in (200, 303), (r.status_code, r.text[:300])
    else:
        assert r.status_code == 403, (r.status_code, r.text[:300])


@pytest.mark.parametrize(("method", "path"), sorted(p for p in PAGES if p[0] == "POST"))
def test_forms_without_the_csrf_token_are_refused(api: Api, method: str, path: str) -> None:
    number = api.create()["number"]
    role = "requester" if path.startswith("/help/") else "admin"
    signed_in(api, role)
    r = api.client.post(path.replace("{number}", str(number)), data={"body": "x"})
    assert r.status_code == 403
    assert "CSRF" in r.text


def test_cookies_are_secure_on_https(api: Api) -> None:
    from fastapi.testclient import TestClient

    with TestClient(api.client.app, base_url="https://testserver") as client:
        csrf_cookie = client.get("/agent/sign-in").headers["set-cookie"].lower()
        assert "helpdesk_csrf=" in csrf_cookie and "; secure" in csrf_cookie
        token = api.headers("agent")["Authorization"].split()[1]
        r = client.post(
            "/sign-in",
            data={"token": token, "csrf_token": client.cookies["helpdesk_csrf"]},
            follow_redirects=False,
        )
        flags = [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
        assert {"httponly", "secure", "samesite=lax", "path=/"} <= set(flags)
