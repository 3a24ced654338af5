"""The body cap under a real uvicorn server (issue #12, item 6): a client streaming an
endless chunked body, with no token, is answered 413 and cut off long before it has sent
much more than the limit; a declared ``Content-Length`` above the limit is answered before
any of the body is sent."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from tests.integration.http.conftest import Served

CHUNK = 64 * 1024
GIVE_UP_AFTER = 64 * 1024 * 1024
"""Bytes after which the client stops: a server still reading by then never refused."""


async def _connect(served: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    address = urlsplit(served.base_url)
    return await asyncio.open_connection(address.hostname, address.port)


async def _status_line(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0]


async def test_an_endless_chunked_body_is_cut_off(served: Served) -> None:
    reader, writer = await _connect(served)
    writer.write(
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: helpdesk\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sent = 0

    async def stream() -> None:
        nonlocal sent
        chunk = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
        try:
            while sent < GIVE_UP_AFTER:
                writer.write(chunk)
                await writer.drain()
                sent += CHUNK
        except (ConnectionError, OSError):
            return  # the server closed the connection: what we want
        writer.close()  # never refused: end the test instead of hanging

    sender = asyncio.create_task(stream())
    try:
        status: bytes | None = await _status_line(reader)
    except (ConnectionError, asyncio.IncompleteReadError):
        # The server answered and closed while we were still sending: its kernel resets
        # the connection for the unread body, which can discard the answer on our side.
        status = None
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
    assert status in (b"HTTP/1.1 413 Request Entity Too Large", None)
    assert sent < GIVE_UP_AFTER  # the server stopped reading: it did not take it all
    writer.close()


async def test_a_declared_length_above_the_limit_is_answered_before_the_body(
    served: Served,
) -> None:
    reader, writer = await _connect(served)
    declared = served.settings.max_body_bytes + 1
    writer.write(
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: helpdesk\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % declared
    )
    await writer.drain()
    status = await _status_line(reader)  # no byte of the body was sent
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    writer.close()
