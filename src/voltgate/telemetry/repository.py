"""SQL for telemetry readings, their 1-minute rollups and device events (SQLite and
PostgreSQL).

Readings arrive in batches of thousands: they are inserted with one `executemany` of plain
tuples on the driver, without building a dict per row, and the batch's rollups (aggregated in
Python, `rollups.rollup`) are merged in with one `INSERT … ON CONFLICT … DO UPDATE` in the same
transaction, so raw rows and rollups never disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import ROLLUP_PARTS, device_events, telemetry, telemetry_rollups
from voltgate.telemetry.rollups import FIELDS, rollup
from voltgate.telemetry.store import Bucket, Event, Reading

_READING_COLUMNS = [c for c in Reading._fields]
_EVENT_COLUMNS = [c for c in Event._fields]
_ROLLUP_KEY = ["device_id", "connector", "bucket"]
_ROLLUP_COLUMNS = _ROLLUP_KEY + [f"{f}_{part}" for f in FIELDS for part, _, _ in ROLLUP_PARTS]


def _insert_sql(conn: sa.Connection, table: str, columns: list[str]) -> str:
    style = conn.dialect.paramstyle
    if style == "qmark":
        marks = ", ".join("?" for _ in columns)
    elif style == "numeric_dollar":
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    elif style == "format":
        marks = ", ".join("%s" for _ in columns)
    else:
        raise RuntimeError(f"unsupported DB-API paramstyle {style}")
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - constants


def _merge(field: str) -> list[str]:
    """SET clauses merging a batch's partial (`excluded`) into the stored rollup of one field.
    Written with CASE: SQLite's two-argument min()/max() are NULL when either side is."""
    old, new = f"telemetry_rollups.{field}", f"excluded.{field}"
    newer = (
        f"{new}_last_at IS NOT NULL AND ({old}_last_at IS NULL OR {new}_last_at > {old}_last_at"
        f" OR ({new}_last_at = {old}_last_at AND {new}_last > {old}_last))"
    )
    return [
        f"{field}_count = {old}_count + {new}_count",
        f"{field}_sum = {old}_sum + {new}_sum",
        f"{field}_min = CASE WHEN {old}_min IS NULL OR {new}_min < {old}_min"
        f" THEN {new}_min ELSE {old}_min END",
        f"{field}_max = CASE WHEN {old}_max IS NULL OR {new}_max > {old}_max"
        f" THEN {new}_max ELSE {old}_max END",
        f"{field}_last = CASE WHEN {newer} THEN {new}_last ELSE {old}_last END",
        f"{field}_last_at = CASE WHEN {newer} THEN {new}_last_at ELSE {old}_last_at END",
    ]


# Rollup rows a statement: one multi-row upsert is ~2x faster than executemany on PostgreSQL;
# 400 rows x 33 columns stay under both databases' 32,766 parameters.
_UPSERT_ROWS = 400


@functools.lru_cache(maxsize=16)
def _upsert_sql(style: str, rows: int) -> str:
    width = len(_ROLLUP_COLUMNS)
    if style == "qmark":
        row = "(" + ", ".join("?" * width) + ")"
        values = ", ".join(row for _ in range(rows))
    elif style == "numeric_dollar":
        values = ", ".join(
            "(" + ", ".join(f"${n * width + i}" for i in range(1, width + 1)) + ")"
            for n in range(rows)
        )
    elif style == "format":
        row = "(" + ", ".join(["%s"] * width) + ")"
        values = ", ".join(row for _ in range(rows))
    else:
        raise RuntimeError(f"unsupported DB-API paramstyle {style}")
    merges = ", ".join(clause for field in FIELDS for clause in _merge(field))
    return (
        f"INSERT INTO telemetry_rollups ({', '.join(_ROLLUP_COLUMNS)}) VALUES {values}"  # noqa: S608
        f" ON CONFLICT ({', '.join(_ROLLUP_KEY)}) DO UPDATE SET {merges}"
    )


def _upsert(conn: sa.Connection, partials: list[tuple[Any, ...]]) -> None:
    """Merge the batch's partials (one per key: a statement may not update a row twice)."""
    style = conn.dialect.paramstyle
    for first in range(0, len(partials), _UPSERT_ROWS):
        chunk = partials[first : first + _UPSERT_ROWS]
        params = tuple(value for row in chunk for value in row)
        conn.exec_driver_sql(_upsert_sql(style, len(chunk)), params)


def _reading(row: sa.Row[tuple[object, ...]]) -> Reading:
    return Reading(*(getattr(row, name) for name in _READING_COLUMNS))


class SqlTelemetryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, readings: Sequence[Reading]) -> None:
        rows = list(readings)

        def insert(conn: sa.Connection) -> None:
            conn.exec_driver_sql(_insert_sql(conn, "telemetry", _READING_COLUMNS), rows)
            # Aggregated here: on SQLite this is the writer thread, off the event loop.
            _upsert(conn, rollup(rows))

        await self._db.write(insert)

    async def readings(
        self,
        device_id: str,
        connectors: Sequence[int],
        start: float,
        end: float,
        after: tuple[float, int] | None,
        limit: int,
    ) -> list[tuple[int, Reading]]:
        t = telemetry
        query = (
            sa.select(t.c.id, *(t.c[name] for name in _READING_COLUMNS))
            .where(
                t.c.device_id == device_id,
                t.c.connector.in_(connectors)
                if len(connectors) > 1
                else t.c.connector == connectors[0],
                t.c.at >= start,
                t.c.at < end,
            )
            .order_by(t.c.at, t.c.id)
            .limit(limit)
        )
        if after is not None:
            at, row_id = after
            query = query.where(sa.or_(t.c.at > at, sa.and_(t.c.at == at, t.c.id > row_id)))

        def work(conn: sa.Connection) -> list[tuple[int, Reading]]:
            return [(row[0], Reading(*row[1:])) for row in conn.execute(query)]

        return await self._db.read(work)

    async def buckets(
        self, device_id: str, connector: int, field: str, start: int, end: int, length: int
    ) -> list[Bucket]:
        r = telemetry_rollups
        count, total, low, high, last, last_at = (
            r.c[f"{field}_{part}"] for part, _, _ in ROLLUP_PARTS
        )
        # Floor division of an integer column: integer division on SQLite and PostgreSQL.
        group = (r.c.bucket // length) * length
        # The last value of a bucket is the one minute's `last` with the greatest time (ties:
        # the greater value), as when two rollups merge.
        rank = sa.func.row_number().over(partition_by=group, order_by=(last_at.desc(), last.desc()))
        minutes = (
            sa.select(
                group.label("start"),
                count.label("n"),
                total.label("total"),
                low.label("low"),
                high.label("high"),
                last.label("last"),
                last_at.label("last_at"),
                rank.label("rank"),
            )
            .where(
                r.c.device_id == device_id,
                r.c.connector == connector,
                r.c.bucket >= start,
                r.c.bucket < end,
                count > 0,
            )
            .subquery()
        )
        m = minutes.c
        first = m.rank == 1
        query = (
            sa.select(
                m.start,
                sa.func.sum(m.n),
                sa.func.sum(m.total),
                sa.func.min(m.low),
                sa.func.max(m.high),
                sa.func.max(sa.case((first, m.last))),
                sa.func.max(sa.case((first, m.last_at))),
            )
            .group_by(m.start)
            .order_by(m.start)
        )

        def work(conn: sa.Connection) -> list[Bucket]:
            return [
                Bucket(int(row[0]), int(row[1]), *(float(v) for v in row[2:]))
                for row in conn.execute(query)
            ]

        return await self._db.read(work)

    async def sweep(self, raw_before: float, rollups_before: float, chunk: int) -> int:
        t, r = telemetry, telemetry_rollups
        old_raw = sa.select(t.c.id).where(t.c.at < raw_before).limit(chunk)
        raw = t.delete().where(t.c.id.in_(old_raw.scalar_subquery()))
        old = sa.select(r.c.device_id, r.c.connector, r.c.bucket).where(r.c.bucket < rollups_before)
        rollups = r.delete().where(
            sa.tuple_(r.c.device_id, r.c.connector, r.c.bucket).in_(old.limit(chunk))
        )

        def work(conn: sa.Connection) -> int:
            return conn.execute(raw).rowcount + conn.execute(rollups).rowcount

        return await self._db.write(work)

    async def latest(self, device_id: str, connectors: Sequence[int]) -> list[Reading]:
        # One index seek per connector (device, connector, at): cheap however long the history.
        queries = [
            telemetry.select()
            .where(telemetry.c.device_id == device_id, telemetry.c.connector == number)
            .order_by(telemetry.c.at.desc(), telemetry.c.id.desc())
            .limit(1)
            for number in connectors
        ]

        def work(conn: sa.Connection) -> list[Reading]:
            found = (conn.execute(query).first() for query in queries)
            return [_reading(row) for row in found if row is not None]

        return await self._db.read(work)

    async def add_events(self, events: Sequence[Event]) -> None:
        rows = list(events)

        def insert(conn: sa.Connection) -> None:
            conn.exec_driver_sql(_insert_sql(conn, "device_events", _EVENT_COLUMNS), rows)

        await self._db.write(insert)

    async def events(self, device_id: str, limit: int) -> list[Event]:
        query = (
            device_events.select()
            .where(device_events.c.device_id == device_id)
            .order_by(device_events.c.at.desc(), device_events.c.id.desc())
            .limit(limit)
        )

        def work(conn: sa.Connection) -> list[Event]:
            return [
                Event(*(getattr(row, name) for name in _EVENT_COLUMNS))
                for row in conn.execute(query)
            ]

        return await self._db.read(work)
