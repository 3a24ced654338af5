"""RFC 9457 problem documents (``application/problem+json``) for every error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.ticket_service.adapters.http.hints import hint_for
from services.ticket_service.domain import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"

DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.InvalidRequest: 422,
    errors.NotPermitted: 403,
    errors.TicketNotFound: 404,
    errors.FreeMailDomain: 422,
    errors.ClaimConflict: 409,
    errors.OrganizationNotFound: 404,
    errors.TicketClosed: 409,
    errors.InvalidTransition: 409,
    errors.NotClosed: 409,
    errors.StaleClose: 409,
    errors.ConcurrencyConflict: 409,
    errors.IdempotencyKeyReused: 422,
}

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the ticket's state",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Internal error",
    503: "Not ready",
}


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str | None = None
    hint: str | None = None
    follow_up_url: str | None = None
    errors: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem(status: int, code: str, detail: str, **extra: Any) -> Problem:
    return Problem(
        type=f"/problems/{code}",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        **extra,
    )


def domain_problem(
    error: errors.DomainError, *, path: str = "/api/", status: int | None = None
) -> Problem:
    """``path``: the request's, which tells whose API the hint names."""
    status = status or DOMAIN_STATUS.get(type(error), 409)
    return problem(status, error.code, error.message, hint=hint_for(error, path=path))


def response(p: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        p.model_dump(mode="json", exclude_none=True),
        status_code=p.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return response(problem(exc.status, exc.code, exc.detail, **exc.extra), headers)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.DomainError)
        return response(domain_problem(exc, path=request.url.path))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        unparseable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if unparseable is not None:
            reason = (unparseable.get("ctx") or {}).get("error", "not JSON")
            return response(
                problem(400, "invalid_json", f"The body is not parseable JSON: {reason}.")
            )
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return response(
            problem(422, "invalid_request", "The request is not valid.", errors=details)
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = TITLES.get(exc.status_code, "error").lower().replace(" ", "_")
        return response(problem(exc.status_code, code, str(exc.detail)), exc.headers)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(errors.DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses a route can answer (always
    400 for an unparseable body, 401 without a valid token and 413 for a body above
    ``HELPDESK_MAX_BODY_BYTES``)."""
    return {
        s: {
            "model": Problem,
            "description": TITLES.get(s, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in sorted({400, 401, 413, *statuses})
    }
