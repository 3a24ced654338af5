"""The relay's position is durable, per relay name, and only moves forward."""

from __future__ import annotations

from pathlib import Path

from services.settings import Settings
from services.ticket_service.adapters.kafka.position import RelayPosition
from services.ticket_service.bootstrap import build_application


def test_position_survives_a_restart_and_never_goes_back(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = build_application(settings)
    position = RelayPosition(app, "events")
    assert position.get() == 0
    position.record(5)
    position.record(3)  # an older page recorded late: ignored
    assert position.get() == 5
    assert RelayPosition(app, "other").get() == 0
    app.close()

    reopened = build_application(settings)
    assert RelayPosition(reopened, "events").get() == 5
    reopened.close()


def test_two_relays_of_one_name_keep_the_later_position(tmp_path: Path) -> None:
    app = build_application(Settings(data_dir=tmp_path))
    ahead, behind = RelayPosition(app, "events"), RelayPosition(app, "events")
    behind.get()
    ahead.record(20)
    behind.record(15)  # stale writer: no error, no step back
    assert RelayPosition(app, "events").get() == 20
    app.close()
