"""The browser session: the API's token in an HttpOnly, SameSite=Lax cookie, and CSRF
protection by double submit (a random value in a second cookie that every form repeats;
a cross-site page can neither read the cookie nor set it, so it cannot forge the field).

Who may open a page is the API's role table (:mod:`..http.permissions`): each page names
the API operation it stands for."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import Request, Response

from contracts.common import Role
from services.ticket_service.adapters.http.auth import Claims, InvalidToken, decode_token
from services.ticket_service.adapters.http.deps import ServiceHolder
from services.ticket_service.adapters.http.permissions import allowed

SESSION_COOKIE = "helpdesk_session"
CSRF_COOKIE = "helpdesk_csrf"
CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """No session, or one whose token no longer holds: the page asks to sign in."""

    def __init__(self, area: str) -> None:
        super().__init__(area)
        self.area = area


class Forbidden(Exception):
    """A page or form the session's role may not use, or a form without its CSRF token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def area_of(role: Role) -> str:
    """Where a role works: the help center for requesters, the console for the rest."""
    return "help" if role == Role.REQUESTER else "agent"


def claims_of(request: Request, area: str, operation: str) -> Claims:
    """The session's claims, if its role may call ``operation`` (an API operation)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded(area)
    holder: ServiceHolder = request.app.state.services
    try:
        claims = decode_token(token, holder.tokens)
    except InvalidToken:
        raise SignInNeeded(area) from None
    if not allowed(operation, claims.role):
        raise Forbidden(f"The {claims.role} role may not open this page.")
    return claims


def decode(request: Request, token: str) -> Claims:
    holder: ServiceHolder = request.app.state.services
    return decode_token(token, holder.tokens)


def csrf_token(request: Request) -> str:
    """The CSRF value of this browser (a new one if it has none; :func:`keep_csrf` sets
    the cookie on the response)."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.csrf = value
    return value


def keep_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "csrf", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=secure(request), path="/"
        )


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def form_of(request: Request) -> dict[str, list[str]]:
    """The posted form (``application/x-www-form-urlencoded``), after the CSRF check:
    a form without the value of this browser's CSRF cookie → :class:`Forbidden`."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form = parse_qs(body, keep_blank_values=True, max_num_fields=500)
    sent = (form.get(CSRF_FIELD) or [""])[0]
    expected = request.cookies.get(CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("The form's CSRF token is missing or wrong; reload the page.")
    return form


def first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def sign_in(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path="/"
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
