"""Issue #20: with a PostgreSQL ``HELPDESK_DATABASE_URL`` the mail store is the table
``mail_blobs`` of that database (real PostgreSQL), behind the same put/get/purge as the
filesystem store; both services choose it by one factory, and downloads come from it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from services.email_ingest.adapters.ticket_index import SqliteTicketIndex
from services.email_ingest.application.ingest import Kind
from services.mail_store import FileMailStore, PostgresMailStore, mail_store_for
from services.settings import Settings
from services.ticket_service.application.messagebus import handle_command
from services.ticket_service.bootstrap import create_app
from tests.unit.email.fakes import RecordingPublisher, mail
from tests.unit.http.api_client import REQUESTER, SECRET, Api
from tests.unit.http.test_mail_downloads import ingest_service, tickets_of, with_attachment

DAY = 86_400


def test_the_table_is_content_addressed_and_purged_by_age(postgres_database: str) -> None:
    store = PostgresMailStore(postgres_database)
    try:
        digest = store.put(b"hello")
        assert store.put(b"hello") == digest == hashlib.sha256(b"hello").hexdigest()
        other = store.put(bytes(range(256)) * 1000)
        assert store.get(digest) == b"hello"
        assert store.get(other) == bytes(range(256)) * 1000
        assert store.get("0" * 64) is None
        assert store.get("'; drop table mail_blobs; --") is None
        with psycopg.connect(postgres_database) as conn:
            (rows,) = conn.execute("SELECT count(*) FROM mail_blobs").fetchone() or (0,)
        assert rows == 2
        assert store.purge(0) == 0
        assert store.purge(30, now=time.time() + 29 * DAY) == 0
        assert store.get(digest) == b"hello"
        assert store.purge(30, now=time.time() + 31 * DAY) == 2
        assert store.get(digest) is None and store.get(other) is None
    finally:
        store.close()
    again = PostgresMailStore(postgres_database)  # the table exists already
    try:
        assert again.get(again.put(b"back")) == b"back"
    finally:
        again.close()


def test_one_factory_chooses_the_store(tmp_path: Path, postgres_database: str) -> None:
    def kind(**settings: object) -> type:
        return type(mail_store_for(Settings(data_dir=tmp_path, **settings)))  # type: ignore[arg-type]

    assert kind() is FileMailStore
    assert kind(database_url=f"sqlite:///{tmp_path}/t.sqlite3") is FileMailStore
    assert kind(database_url=postgres_database) is PostgresMailStore
    assert kind(database_url=postgres_database, mail_store_dir=tmp_path / "m") is FileMailStore


async def test_ingest_and_downloads_share_the_postgres_store(
    tmp_path: Path, postgres_database: str
) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, database_url=postgres_database)
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings)
        ingest = ingest_service(settings, SqliteTicketIndex())
        assert isinstance(ingest.mail_store, PostgresMailStore)
        raw = with_attachment(mail(sender=REQUESTER, message_id="<pg-opens@example.com>"))
        assert (await ingest.ingest(raw)).kind == Kind.CREATED
        assert isinstance(ingest.publisher, RecordingPublisher)
        (command,) = ingest.publisher.published
        outcome = handle_command(tickets_of(client), command)
        assert outcome.ok and outcome.ticket_number is not None
        got = client.get(
            f"/api/v1/tickets/{outcome.ticket_number}/original", headers=api.headers("agent")
        )
        assert (got.status_code, got.content) == (200, raw)
        ingest.mail_store.close()
    assert command.data.original is not None
    files = FileMailStore.in_data_dir(tmp_path)
    assert files.get(command.data.original.sha256) is None, "nothing went to the files"
