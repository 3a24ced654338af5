"""What an operator sees when a ``helpdesk`` command cannot run: one line naming the setting
to fix, never a traceback.

:class:`OperatorError` is raised for problems the operator fixes (a missing setting, a
missing store, a stack already running); :func:`one_line` also turns the "cannot connect"
errors of Kafka, Redis and PostgreSQL into such a line. ``helpdesk`` (services/cli.py)
prints it and exits with status 2.
"""

from __future__ import annotations

import os


class OperatorError(RuntimeError):
    """A problem with the setup, said in one line that names what to fix."""


class MissingSetting(OperatorError, ValueError):
    """A setting the command needs is not set."""

    def __init__(self, what: str, *settings: str) -> None:
        names = " and ".join(settings)
        super().__init__(
            f"{what} needs {names}: set it, or start the local stack (make run) whose "
            "stack.json the helpdesk command reads"
        )


def _setting(name: str) -> str:
    value = os.environ.get(name)
    return f"{name}={value}" if value else f"{name} (unset)"


def one_line(error: BaseException) -> str | None:
    """The operator's one-line message for ``error`` (or the error it was raised from), or
    None for a bug (keep the traceback then)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        message = _one_line(current)
        if message is not None:
            return message
        current = current.__cause__ or current.__context__
    return None


def _one_line(error: BaseException) -> str | None:
    if isinstance(error, OperatorError):
        return str(error)
    from aiokafka.errors import KafkaConnectionError, KafkaError

    if isinstance(error, KafkaConnectionError) or (
        isinstance(error, KafkaError) and "bootstrap" in str(error).lower()
    ):
        return (
            f"cannot reach the Kafka broker ({_setting('HELPDESK_KAFKA_BOOTSTRAP')}): "
            f"{error}; is the stack running (make run)?"
        )
    import redis.exceptions

    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return (
            f"cannot reach Redis ({_setting('HELPDESK_REDIS_URL')}): {error}; "
            "is the stack running (make run)?"
        )
    import psycopg

    if isinstance(error, psycopg.OperationalError):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"cannot reach the ticket store ({_setting('HELPDESK_DATABASE_URL')}): {first}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused: {error}; is the stack running (make run)?"
    return None
