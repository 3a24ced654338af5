"""Request bodies larger than ``HELPDESK_MAX_BODY_BYTES`` are refused (413) before any work.

A plain ASGI middleware in front of FastAPI, so a refused body is never
read into memory whole, parsed, or looked at for a token:

* a ``Content-Length`` above the limit is answered at once; nothing of the body is read;
* a body without a length (``Transfer-Encoding: chunked``, or none at all) is read
  here, counting, and refused as soon as it passes the limit (at most the limit plus one
  chunk is held); a body within the limit is handed on unchanged.

The answer is a problem document with ``Connection: close``: the server stops reading the
rest of the body and drops the connection.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.ticket_service.adapters.http.problems import problem, response

TOO_LARGE = 2**63


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _declared_length(scope)
        if length is not None:
            if length > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server delivers no more than that
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(received, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = response(
            problem(
                413,
                "body_too_large",
                f"The request body is larger than {self.max_bytes} bytes.",
            ),
            headers={"Connection": "close"},
        )
        await refusal(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    """The body's declared ``Content-Length``: None if absent, and an unreadable one
    counts as too large."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return TOO_LARGE
            return length if length >= 0 else TOO_LARGE
    return None


def _replay(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
