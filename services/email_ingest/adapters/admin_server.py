"""The ingest's admin API (:mod:`.admin_http`) served by uvicorn in the ingest's own event
loop (a release must go through this process's pipeline)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("helpdesk.email_ingest")


class AdminServer:
    """``app`` on ``host:port`` (port 0: any free one, see :attr:`port`)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(), name="email-admin-http")
        # uvicorn offers a flag, not an event, for "listening"
        while not self.server.started and not self.task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()  # raises the start-up error (port taken, ...)
            raise RuntimeError("email admin API stopped at start-up")
        log.info("email admin API on %s", self.server.config.port)

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
