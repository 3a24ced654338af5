"""A dozen tickets with timelines worked out by hand, and the figures the audit must give.

Default targets (first reply / resolution): urgent 1h/8h, high 4h/24h, normal 8h/72h,
low 24h/168h. Everything starts on Monday 5 January 2026 at 09:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from services.ticket_service.sla.calendar import MICROS, BusinessCalendar
from services.ticket_service.sla.clock import TicketRow
from services.ticket_service.sla.policy import DEFAULT_TARGETS, SlaPolicy
from services.ticket_service.sla.sources.store import reference_facts, store_facts
from tests.unit.sla.history import INTEGRATION, MONDAY, History, audit_rows, new_app
from tests.unit.sla.test_properties import same_ids

AS_OF = MONDAY + timedelta(hours=80)


def at(hours: float, minutes: float = 0) -> datetime:
    return MONDAY + timedelta(hours=hours, minutes=minutes)


def hm(hours: int, minutes: int = 0) -> int:
    return (hours * 3600 + minutes * 60) * MICROS


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[History, dict[str, int]]:
    h = History(new_app(tmp_path_factory.mktemp("sla-hand")))
    n: dict[str, int] = {}

    # 1 normal: reply after 1h30, pending, requester reply reopens to open, solved, closed;
    #   an integration raises the priority after the close (ignored: the record is locked).
    n["plain"] = t = h.create(at(0))
    h.reply(t, at(1, 30))
    h.status(t, "pending", at(1, 31))
    h.requester_reply(t, at(3))
    h.status(t, "solved", at(5))
    h.auto_close(t, at(5 + 7 * 24))
    h.priority(t, "urgent", at(5 + 7 * 24, 1), actor=INTEGRATION)

    # 2 urgent: private note does not count; public reply at 1h30 (breach); solved at 2h;
    #   requester reopens at 3h; on hold 4h-6h; solved again at 7h (7h < 8h); closed.
    n["reopened"] = t = h.create(at(0), priority="urgent")
    h.reply(t, at(0, 10), public=False)
    h.reply(t, at(1, 30))
    h.status(t, "solved", at(2))
    h.requester_reply(t, at(3))
    h.status(t, "on_hold", at(4))
    h.status(t, "open", at(6))
    h.status(t, "solved", at(7))
    h.auto_close(t, at(7 + 7 * 24))

    # 3 high: only the requester writes; solved at 6h without a reply: no first reply,
    #   breached (the 4h target passed while waiting); resolution 6h.
    n["silent_solve"] = t = h.create(at(0), priority="high")
    h.requester_reply(t, at(0, 30))
    h.status(t, "solved", at(6))

    # 4 low: created solved.
    n["born_solved"] = h.create(at(1), priority="low", status="solved")

    # 5 normal: created open, nothing else: clocks running at the audit instant (80h).
    n["running"] = h.create(at(0), status="open")

    # 6 high: reply after 30 min, pending from 1h for two days, solved 2h after: resolution
    #   counts the pending span (50h, breach), agent work does not (1h + 1h).
    n["pending"] = t = h.create(at(0), priority="high")
    h.reply(t, at(0, 30))
    h.status(t, "pending", at(1))
    h.status(t, "open", at(49))
    h.status(t, "solved", at(50))

    # 7 urgent: closed by an integration straight from open at 3h: resolution ends there.
    n["integration_close"] = t = h.create(at(0), priority="urgent")
    h.reply(t, at(0, 20))
    h.status(t, "open", at(0, 21))
    h.close_by_integration(t, at(3))

    # 8: follow-up of 7 at 4h (urgent, copied); its own clocks: reply 2h later (breach).
    n["follow_up"] = t = h.follow_up(n["integration_close"], at(4))
    h.reply(t, at(6))

    # 9 normal raised to urgent before the reply: judged as urgent (1h30 > 1h).
    n["raised"] = t = h.create(at(0))
    h.priority(t, "urgent", at(0, 30))
    h.reply(t, at(1, 30))

    # 10 high: solved within target, reopened next day, solved again after 27h: breach.
    n["late_second_solve"] = t = h.create(at(0), priority="high")
    h.reply(t, at(1))
    h.status(t, "solved", at(3))
    h.requester_reply(t, at(24))
    h.status(t, "solved", at(27))

    # 11 normal: on hold then back to open, still open at the audit instant.
    n["on_hold_running"] = t = h.create(at(0))
    h.reply(t, at(2))
    h.status(t, "on_hold", at(10))
    h.status(t, "open", at(70))

    # 12 urgent: pending straight away, requester answers, solved; all within targets.
    n["quick"] = t = h.create(at(2), priority="urgent")
    h.reply(t, at(2, 15))
    h.status(t, "pending", at(2, 20))
    h.requester_reply(t, at(2, 40))
    h.status(t, "solved", at(3))
    return h, n


# (first_reply, breached, running), (resolution, breached, running), agent work, reopens,
# status, priority
EXPECTED: dict[str, tuple[object, ...]] = {
    "plain": ((hm(1, 30), False, False), (hm(5), False, False), hm(3, 31), 0, "solved", "normal"),
    "reopened": ((hm(1, 30), True, False), (hm(7), False, False), hm(4), 1, "solved", "urgent"),
    "silent_solve": ((None, True, False), (hm(6), False, False), hm(6), 0, "solved", "high"),
    "born_solved": ((None, False, False), (0, False, False), 0, 0, "solved", "low"),
    "running": ((hm(80), True, True), (hm(80), True, True), hm(80), 0, "open", "normal"),
    "pending": ((hm(0, 30), False, False), (hm(50), True, False), hm(2), 0, "solved", "high"),
    "integration_close": (
        (hm(0, 20), False, False),
        (hm(3), False, False),
        hm(3),
        0,
        "closed",
        "urgent",
    ),
    "follow_up": ((hm(2), True, False), (hm(76), True, True), hm(76), 0, "new", "urgent"),
    "raised": ((hm(1, 30), True, False), (hm(80), True, True), hm(80), 0, "new", "urgent"),
    "late_second_solve": (
        (hm(1), False, False),
        (hm(27), True, False),
        hm(6),
        1,
        "solved",
        "high",
    ),
    "on_hold_running": ((hm(2), False, False), (hm(80), True, True), hm(20), 0, "open", "normal"),
    "quick": ((hm(0, 15), False, False), (hm(1), False, False), hm(0, 40), 0, "solved", "urgent"),
}


def figures(row: TicketRow) -> tuple[object, ...]:
    return (
        (row.first_reply, row.first_reply_breached, row.first_reply_running),
        (row.resolution, row.resolution_breached, row.resolution_running),
        row.agent_work,
        row.reopens,
        row.status,
        row.priority,
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hand_computed_figures(world: tuple[History, dict[str, int]], name: str) -> None:
    h, numbers = world
    rows = audit_rows(store_facts(h.app), as_of=AS_OF)
    assert figures(rows[numbers[name]]) == EXPECTED[name]


def test_follow_up_row_names_its_original(world: tuple[History, dict[str, int]]) -> None:
    h, numbers = world
    rows = audit_rows(store_facts(h.app), as_of=AS_OF)
    assert rows[numbers["follow_up"]].follow_up_of == numbers["integration_close"]
    assert rows[numbers["integration_close"]].follow_up_of is None
    assert len(rows) == len(EXPECTED)


def test_store_reader_agrees_with_envelope_mapping(
    world: tuple[History, dict[str, int]],
) -> None:
    h, _ = world
    assert same_ids(store_facts(h.app)) == same_ids(reference_facts(h.app))


def test_default_instant_is_the_last_event_not_now(world: tuple[History, dict[str, int]]) -> None:
    h, numbers = world
    rows = audit_rows(store_facts(h.app))
    last = at(7 + 7 * 24)  # the automation closing ticket 2
    running = rows[numbers["running"]]
    assert running.resolution == (last - at(0)) // timedelta(microseconds=1)


def test_closed_tickets_keep_their_figures_and_priority(
    world: tuple[History, dict[str, int]],
) -> None:
    """After the automation closes 1 and 2, their figures are those of the final solve;
    the integration's later priority change on 1 does not touch its row."""
    h, numbers = world
    rows = audit_rows(store_facts(h.app))
    for name in ("plain", "reopened"):
        expected = list(EXPECTED[name])
        expected[4] = "closed"
        assert figures(rows[numbers[name]]) == tuple(expected)


# ---- business hours ----------------------------------------------------------------------

BERLIN_WEEKDAYS = BusinessCalendar(
    time_zone="Europe/Berlin",
    weekly=(*tuple(((9 * 3600 * MICROS, 17 * 3600 * MICROS),) for _ in range(5)), (), ()),
    holidays=(date(2026, 12, 25),),
)


def test_business_hours_across_a_weekend(tmp_path: Path) -> None:
    """Created Friday 16:00 Berlin (15:00 UTC), reply Monday 10:00 Berlin, solved Monday
    17:30 Berlin: 1h + 1h to the reply, 1h + 8h to the solve (the evening, the weekend and
    the half hour after closing time do not count)."""
    h = History(new_app(tmp_path))
    friday = datetime.fromisoformat("2026-01-09T15:00:00+00:00")
    t = h.create(friday, priority="high")
    h.reply(t, datetime.fromisoformat("2026-01-12T09:00:00+00:00"))
    h.status(t, "solved", datetime.fromisoformat("2026-01-12T16:30:00+00:00"))
    policy = SlaPolicy(calendar=BERLIN_WEEKDAYS)
    row = audit_rows(store_facts(h.app), policy)[t]
    assert (row.first_reply, row.first_reply_breached) == (hm(2), False)
    assert (row.resolution, row.resolution_breached) == (hm(9), False)
    assert row.agent_work == hm(9)
    # In calendar time the same ticket breached its 4h first-reply target.
    calendar_row = audit_rows(store_facts(h.app))[t]
    assert calendar_row.first_reply == hm(66) and calendar_row.first_reply_breached


def test_business_hours_skip_a_holiday(tmp_path: Path) -> None:
    """Thursday 24 Dec 2026 16:30 Berlin → Monday 28 Dec 09:30 Berlin, Friday 25th a
    holiday: half an hour each side."""
    h = History(new_app(tmp_path))
    t = h.create(datetime.fromisoformat("2026-12-24T15:30:00+00:00"), priority="urgent")
    h.status(t, "solved", datetime.fromisoformat("2026-12-28T08:30:00+00:00"))
    row = audit_rows(store_facts(h.app), SlaPolicy(calendar=BERLIN_WEEKDAYS))[t]
    assert row.resolution == hm(1)
    assert row.first_reply is None and row.first_reply_breached is False
    assert row.resolution_breached is False


def test_default_targets_are_what_the_fixtures_assume() -> None:
    assert {p.value: (t.first_reply, t.resolution) for p, t in DEFAULT_TARGETS.items()} == {
        "urgent": (hm(1), hm(8)),
        "high": (hm(4), hm(24)),
        "normal": (hm(8), hm(72)),
        "low": (hm(24), hm(168)),
    }
