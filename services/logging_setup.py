"""Structured JSON logs for every process: one JSON object per line on standard error.

``configure_logging(service)`` sets up structlog and routes the standard library's
``logging`` through the same renderer, so aiokafka, uvicorn and our own ``logging`` calls
come out as JSON too. Each line carries ``timestamp`` (ISO, UTC), ``level``, ``logger``,
``service``, ``event`` and whatever is bound in the current context — notably
``correlation_id`` (:func:`bind_correlation_id`, a contextvar: per request / task).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

CORRELATION_KEY = "correlation_id"


def _add_service(service: str) -> Processor:
    def add(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
        event.setdefault("service", service)
        return event

    return add


def _drop_color_message(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    return event


def _level_number(level: str) -> int:
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else logging.INFO


def configure_logging(service: str, level: str = "INFO", *, stream: Any = None) -> None:
    """Configure structlog and stdlib ``logging`` to write JSON lines to ``stream``
    (standard error by default). Safe to call again (it replaces the root handlers)."""
    numeric = _level_number(level)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries (aiokafka, uvicorn…) stay at INFO or above; the service's own logger (and
    # ``helpdesk.*``) follows ``level``, so DEBUG adds our lines without a flood.
    root.setLevel(max(numeric, logging.INFO))
    for name in (service, "helpdesk", "services"):
        logging.getLogger(name).setLevel(numeric)


def bind_correlation_id(correlation_id: str | None) -> None:
    """Bind (or, with None, unbind) the correlation id for the current context."""
    if correlation_id:
        structlog.contextvars.bind_contextvars(**{CORRELATION_KEY: correlation_id})
    else:
        structlog.contextvars.unbind_contextvars(CORRELATION_KEY)


def clear_correlation_id() -> None:
    structlog.contextvars.unbind_contextvars(CORRELATION_KEY)
