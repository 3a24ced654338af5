"""Facts from the event store's notification log, in log order.

Two readers give the same facts:

* :func:`reference_facts` maps every stored event to its domain event and that to its
  public envelope (``to_envelope``), and reduces the envelope: the definition.
* :func:`store_facts` decodes each stored event's state with the application's own mapper
  pipeline (its cipher and compressor when configured, then its transcoder — the same
  objects ``Mapper.to_domain_event`` uses) and reads the few fields the figures need *by
  name* from the decoded dict (see :mod:`services.ticket_service.sla.sources.ticket_state`);
  it skips building domain-event and envelope objects, which cost ~10x a bare read of the
  log. On SQLite and PostgreSQL it reads the rows a page at a time with its own narrow query
  (no ``Notification``/``UUID`` objects per row), optionally only one partition of the
  tickets (:mod:`services.ticket_service.sla.parallel`); elsewhere through
  ``select_notifications``.

The property tests check both readers agree on random histories, including custom fields
and comment bodies written to look like the store's own encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from services.ticket_service.application.envelopes import to_envelope
from services.ticket_service.application.tickets import TicketApplication
from services.ticket_service.sla.facts import Fact, fact_from_envelope
from services.ticket_service.sla.sources.ticket_state import TICKET_EVENT_PREFIX, StateReader

PAGE = 1000
Progress = Callable[[int], None]
"""Called with the number of notifications just read."""


def notification_pages(
    app: TicketApplication,
    *,
    start: int = 1,
    stop: int | None = None,
    page: int = PAGE,
    progress: Progress | None = None,
) -> Iterator[Sequence[Notification]]:
    """Pages of notifications from ``start`` to ``stop`` (both inclusive)."""
    select = app.recorder.select_notifications
    return _paged(
        lambda first: select(first, page, stop=stop), lambda n: n.id, start, page, progress
    )


def read_notifications(app: TicketApplication, **read: Any) -> Iterator[Notification]:
    """Every notification, in order (the bare read of the log)."""
    for notifications in notification_pages(app, **read):
        yield from notifications


def reference_facts(app: TicketApplication, **read: Any) -> Iterator[Fact | None]:
    for notification in read_notifications(app, **read):
        yield _by_envelope(app, notification)


def _by_envelope(app: TicketApplication, notification: Notification) -> Fact | None:
    envelope = to_envelope(app.mapper.to_domain_event(notification))
    return fact_from_envelope(envelope) if envelope is not None else None


def store_facts(app: TicketApplication, **read: Any) -> Iterator[Fact | None]:
    pages = (
        row_pages(app, **read)
        if narrow_reader_applies(app)
        else (
            [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page]
            for page in notification_pages(app, **read)
        )
    )
    reader_for = StateReader(app.mapper).readers.get  # chosen by topic, before decoding
    for rows in pages:
        for row in rows:
            _, oid, version, topic, state = row
            fact_of = reader_for(topic)
            if fact_of is not None:
                yield fact_of(oid, version, state)
            elif topic.startswith(TICKET_EVENT_PREFIX):
                yield _by_reference(app, row)
            else:
                yield None  # another aggregate's event (never decoded): moves no SLA clock


def _by_reference(app: TicketApplication, row: Row) -> Fact | None:
    """A ticket event the state reader does not know (or one that needs upcasting): mapped
    through the envelope, keeping the store's own id form, so the ticket's other facts
    match it."""
    fact = _by_envelope(app, _notification(app, row))
    return fact._replace(ticket_id=row[1]) if fact is not None else None


Row = tuple[int, Any, int, str, bytes]
"""(notification id, originator id, originator version, topic, state)."""


def row_pages(
    app: TicketApplication,
    *,
    start: int = 1,
    stop: int | None = None,
    page: int = PAGE,
    progress: Progress | None = None,
    partition: Partition | None = None,
) -> Iterator[Sequence[Row]]:
    """Pages of the notification log's rows, in order, without building objects per row
    (the same rows ``select_notifications`` returns); only one partition's when given.
    SQLite and PostgreSQL stores (see :func:`narrow_reader_applies`)."""
    fetch = _fetcher(app, partition)
    last = stop if stop is not None else 2**63 - 1
    return _paged(lambda first: fetch(first, last, page), lambda r: r[0], start, page, progress)


T = TypeVar("T")


def _paged(
    fetch: Callable[[int], Sequence[T]],
    id_of: Callable[[T], int],
    start: int,
    page: int,
    progress: Progress | None,
) -> Iterator[Sequence[T]]:
    """Pages from ``fetch(first id)`` until a short page."""
    while True:
        items = fetch(start)
        if not items:
            return
        yield items
        if progress:
            progress(len(items))
        if len(items) < page:
            return
        start = id_of(items[-1]) + 1


def log_rows(app: TicketApplication, **read: Any) -> Iterator[Row]:
    for rows in row_pages(app, **read):
        yield from rows


def narrow_reader_applies(app: TicketApplication) -> bool:
    return isinstance(app.recorder, SQLiteApplicationRecorder | PostgresApplicationRecorder)


Fetch = Callable[[int, int, int], list[Row]]
"""(first id, last id, limit) → rows."""


def _fetcher(app: TicketApplication, partition: Partition | None) -> Fetch:
    recorder = app.recorder
    params = _partition_params(partition)
    if isinstance(recorder, SQLiteApplicationRecorder):
        sqlite_statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid >= ? AND rowid <= ? "
            f"{_partition_clause(partition, 'substr(originator_id, -1)', '?')}"
            "ORDER BY rowid LIMIT ?"
        )

        def from_sqlite(first: int, last: int, limit: int) -> list[Row]:
            with recorder.datastore.transaction(commit=False) as cursor:
                raw = cursor.sqlite_cursor
                raw.row_factory = None  # plain tuples on this cursor only
                raw.execute(sqlite_statement, (first, last, *params, limit))
                rows: list[Row] = raw.fetchall()
                return rows

        return from_sqlite
    if isinstance(recorder, PostgresApplicationRecorder):
        pg_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id >= %s AND notification_id <= %s "
            f"{_partition_clause(partition, 'right(originator_id::text, 1)', '%s')}"
            "ORDER BY notification_id LIMIT %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )

        def from_postgres(first: int, last: int, limit: int) -> list[Row]:
            with (
                recorder.datastore.get_connection() as connection,
                connection.cursor(row_factory=tuple_row) as cursor,
            ):
                cursor.execute(pg_statement, (first, last, *params, limit), prepare=True)
                rows: list[Row] = cursor.fetchall()
                return rows

        return from_postgres
    raise TypeError(f"no narrow reader for {type(recorder).__name__}")


Partition = tuple[int, int]
"""(k, n): the k-th of n disjoint sets of aggregates (0 <= k < n)."""


def _partition_clause(partition: Partition | None, last_digit: str, mark: str) -> str:
    """Splits aggregates by the last hex digit of their id (uniform for ids made by
    uuid4/uuid5), so every event of a ticket falls in the same partition. The last
    partition takes whatever the others don't, so together they cover every row."""
    if partition is None:
        return ""
    marks = ", ".join(mark for _ in _partition_params(partition))
    negate = "NOT " if partition[0] == partition[1] - 1 else ""
    return f"AND {last_digit} {negate}IN ({marks}) "


def _partition_params(partition: Partition | None) -> tuple[str, ...]:
    """The hex digits of the partition (of all the other partitions, for the last one)."""
    if partition is None:
        return ()
    k, n = partition
    if not 0 <= k < n <= 16:
        raise ValueError(f"partition {k} of {n}: need 0 <= k < n <= 16")
    if k == n - 1:
        return tuple(f"{d:x}" for d in range(16) if d % n != k)
    return tuple(f"{d:x}" for d in range(16) if d % n == k)


def _notification(app: TicketApplication, row: Row) -> Notification:
    originator_id = row[1]
    if isinstance(app.recorder, SQLiteApplicationRecorder):
        originator_id = app.recorder.convert_originator_id(originator_id)
    return Notification(
        id=row[0],
        originator_id=originator_id,
        originator_version=row[2],
        topic=row[3],
        state=row[4],
    )
