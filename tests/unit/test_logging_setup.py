"""``configure_logging``: one JSON line per record, structlog and stdlib alike."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from services.logging_setup import bind_correlation_id, clear_correlation_id, configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {n: logging.getLogger(n).level for n in ("svc-test", "helpdesk", "services")}
    out = io.StringIO()
    configure_logging("svc-test", stream=out)
    yield out
    clear_correlation_id()
    structlog.reset_defaults()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_structlog_event_is_one_json_line_with_service_and_correlation_id(
    stream: io.StringIO,
) -> None:
    bind_correlation_id("email:<m1@example.com>")
    structlog.get_logger("helpdesk.test").info("ticket_created", number=7)
    [line] = lines(stream)
    assert line["event"] == "ticket_created"
    assert line["service"] == "svc-test"
    assert line["correlation_id"] == "email:<m1@example.com>"
    assert line["level"] == "info"
    assert line["logger"] == "helpdesk.test"
    assert line["number"] == 7
    assert str(line["timestamp"]).endswith("Z")


def test_stdlib_logging_goes_through_the_same_json_renderer(stream: io.StringIO) -> None:
    bind_correlation_id("req-1")
    logging.getLogger("helpdesk.other").warning("intake: %s rejected", "cmd-1")
    clear_correlation_id()
    logging.getLogger("helpdesk.other").info("no context")
    first, second = lines(stream)
    assert first["event"] == "intake: cmd-1 rejected"
    assert (first["service"], first["correlation_id"], first["level"]) == (
        "svc-test",
        "req-1",
        "warning",
    )
    assert "correlation_id" not in second
