"""build_application: schema races of processes starting together, read-only opening."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import InternalError, OperationalError

from services.settings import Settings
from services.ticket_service import bootstrap
from services.ticket_service.application.tickets import TicketApplication


def flaky(failures: list[Exception]) -> type[TicketApplication]:
    class Flaky(TicketApplication):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if failures:
                raise failures.pop(0)
            super().__init__(*args, **kwargs)

    return Flaky


def test_a_lost_create_table_race_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[Exception] = [InternalError("tuple concurrently updated")]
    monkeypatch.setattr(bootstrap, "TicketApplication", flaky(failures))
    monkeypatch.setattr(bootstrap.time, "sleep", lambda seconds: None)
    app = bootstrap.build_application(Settings(data_dir=tmp_path, database_url=""))
    assert failures == [] and isinstance(app, TicketApplication)
    app.close()


def test_other_internal_errors_are_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[Exception] = [InternalError("something else"), OperationalError("x")]
    monkeypatch.setattr(bootstrap, "TicketApplication", flaky(failures))
    with pytest.raises(InternalError, match="something else"):
        bootstrap.build_application(Settings(data_dir=tmp_path, database_url=""))


def test_readers_do_not_create_tables(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="")
    reader = bootstrap.build_application(settings, create_tables=False)
    with pytest.raises(OperationalError, match="no such table"):
        reader.recorder.max_notification_id()
    reader.close()
    bootstrap.build_application(settings).close()
    reader = bootstrap.build_application(settings, create_tables=False)
    assert reader.recorder.max_notification_id() in (None, 0)
    reader.close()
