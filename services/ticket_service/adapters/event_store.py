"""Where the events live: eventsourcing's own SQLite or PostgreSQL module, chosen by
``HELPDESK_DATABASE_URL`` (unset: SQLite under ``HELPDESK_DATA_DIR``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from services.operator_errors import OperatorError
from services.settings import Settings

SQLITE_FILE = "helpdesk.sqlite3"


def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment (PERSISTENCE_MODULE and friends) for these settings."""
    url = settings.database_url
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return sqlite_env(str(settings.data_dir / SQLITE_FILE))
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path.removeprefix("/")) if parsed.path != "/:memory:" else ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return sqlite_env(path)
    if parsed.scheme in {"postgres", "postgresql", "postgresql+psycopg"}:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.removeprefix("/") or "helpdesk",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "10",
            "CREATE_TABLE": "y",
        }
    raise ValueError(f"Unsupported HELPDESK_DATABASE_URL scheme: {parsed.scheme!r}")


def require_existing_store(settings: Settings) -> None:
    """For readers (``sla audit``, ``dead-letters``…): raise :class:`OperatorError` when the
    configured SQLite store does not exist, rather than create an empty one and report on
    nothing. (A PostgreSQL store is there or not by the server's word.)"""
    if settings.database_url:
        parsed = urlparse(settings.database_url)
        if parsed.scheme != "sqlite" or parsed.path == "/:memory:":
            return
        path, where = unquote(parsed.path.removeprefix("/")), "HELPDESK_DATABASE_URL"
    else:
        path = str(settings.data_dir / SQLITE_FILE)
        where = f"HELPDESK_DATA_DIR={settings.data_dir}"
    if not Path(path).exists():
        raise OperatorError(
            f"no ticket store at {path} ({where}): point HELPDESK_DATA_DIR or "
            "HELPDESK_DATABASE_URL at an existing store, or start the stack once (make run)"
        )


def sqlite_env(path: str) -> dict[str, str]:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path if path != ":memory:" else "file::memory:?cache=shared",
        "SQLITE_LOCK_TIMEOUT": "30",
        "CREATE_TABLE": "y",
    }
    return env
