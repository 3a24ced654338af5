"""The relay's PostgreSQL lease notices a session the server ended: psycopg only marks a
connection closed after a use fails, so a relay whose session was terminated kept
publishing beside the standby that took the lock over."""

from __future__ import annotations

from pathlib import Path

import psycopg

from services.settings import Settings
from services.ticket_service.adapters.kafka.lease import RelayLease
from services.ticket_service.bootstrap import build_application


async def test_a_terminated_lease_session_is_lost_and_the_standby_takes_it(
    postgres_database: str, tmp_path: Path
) -> None:
    app = build_application(Settings(data_dir=tmp_path, database_url=postgres_database))
    try:
        holder = RelayLease(dict(app.env), "lease-test", retry_interval=0.1)
        standby = RelayLease(dict(app.env), "lease-test", retry_interval=0.1)
        await holder.acquire()
        assert not await holder.lost()
        assert not await standby._try()  # the lock is held
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            )
        assert await holder.lost()
        await standby.acquire()  # the server released the lock with the session
        assert not await standby.lost()
        await holder.release()
        await standby.release()
    finally:
        app.close()
