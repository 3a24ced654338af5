"""FastAPI's own cost per request, for comparison with the ticket routes: the same two
operations (``POST /api/v1/tickets``, ``PATCH /api/v1/tickets/{number}``) declared the way
the API declares them (a pydantic body, the bearer security dependency, a header or path
parameter) but doing nothing — no token check, no command, no store — and answering
pre-serialised bytes. ``python -m uvicorn bench.fastapi_floor:app``."""

from __future__ import annotations

import itertools
from typing import Annotated

from fastapi import Depends, FastAPI, Header
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel


class Fields(BaseModel):
    subject: str | None = None
    requester: str | None = None
    status: str | None = None


bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
app = FastAPI()
numbers = itertools.count(1)


@app.post("/api/v1/tickets", status_code=201)
async def create(
    fields: Fields,
    credentials: Credentials,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    body = b'{"number":%d}' % next(numbers)
    return Response(body, status_code=201, media_type="application/json")


@app.patch("/api/v1/tickets/{number}")
async def update(
    number: int,
    fields: Fields,
    credentials: Credentials,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> Response:
    return Response(b'{"number":%d}' % number, media_type="application/json")


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
