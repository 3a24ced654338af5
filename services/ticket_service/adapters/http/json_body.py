"""Request bodies as JSON, with a nesting limit.

A body nested deeper than :data:`MAX_DEPTH` (arrays and objects, the body itself being
level 1) is refused like unparseable JSON (400 ``invalid_json``): no field of the API needs
more, and deeper documents only cost (``json`` itself gives up, with a ``RecursionError``,
somewhere near a thousand levels)."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

MAX_DEPTH = 32
_OPENERS = (b"[", b"{")


def parse(body: bytes) -> Any:
    """The JSON document in ``body``; :class:`json.JSONDecodeError` if it is not JSON or
    is nested deeper than :data:`MAX_DEPTH`."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise _too_deep(body) from None
    # a body with no more brackets than the limit cannot be deeper (the common case: no walk)
    if sum(body.count(opener) for opener in _OPENERS) > MAX_DEPTH and too_deep(value):
        raise _too_deep(body)
    return value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep(body: bytes) -> json.JSONDecodeError:
    text = body.decode("utf-8", "replace")
    return json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0)


class LimitedJSONRequest(Request):
    """A request whose ``json()`` is :func:`parse` (FastAPI reads bodies through it and
    turns its ``JSONDecodeError`` into the ``json_invalid`` validation error)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """The route class of the API routers: their handlers see a :class:`LimitedJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            return await handler(LimitedJSONRequest(request.scope, request.receive))

        return limited
