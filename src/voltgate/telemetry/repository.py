"""SQL for telemetry readings, their 1-minute rollups and device events (SQLite and
PostgreSQL).

Readings arrive in batches of thousands: they are inserted with one `executemany` of plain
tuples on the driver, without building a dict per row, and the batch's rollups (aggregated in
Python, `rollups.rollup`) are merged in with an `INSERT … ON CONFLICT … DO UPDATE` run once
per partial, together with the readings (`Database.run_together`: group-committed, on SQLite
on the event loop), so raw rows and rollups never disagree.

Reads are statements built once (`db.statements`), rows read by position: a page of raw
readings, the latest per connector and the newest events with `db.reader.all` (on SQLite on
the loop's own thread); a series, which may span a year of rollups, with `db.reader.scan`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import ROLLUP_PARTS, telemetry, telemetry_rollups
from voltgate.db.statements import Statement
from voltgate.db.writer import Deferred, Run, Together
from voltgate.telemetry.rollups import FIELDS, rollup
from voltgate.telemetry.store import Bucket, Event, Reading

_READING_COLUMNS = [c for c in Reading._fields]
_EVENT_COLUMNS = [c for c in Event._fields]
_READING = ", ".join(_READING_COLUMNS)


def _raw(one_connector: bool, after: bool) -> Statement:
    """A page of raw readings (row id first), oldest first: one connector or all the device's,
    from the start of the range or after a (time, id) position."""
    where = "device_id = ?" + (" AND connector = ?" if one_connector else "")
    where += " AND at >= ? AND at < ?" + (" AND (at > ? OR (at = ? AND id > ?))" if after else "")
    return Statement(
        f"SELECT id, {_READING} FROM telemetry WHERE {where} ORDER BY at, id LIMIT ?"  # noqa: S608
    )


# (one connector, after a position) → statement
_RAW = {(one, after): _raw(one, after) for one in (False, True) for after in (False, True)}


def _series(field: str) -> Statement:
    """One field's 1-minute rollups merged into buckets of a length given thrice (bucket
    start, partition), then device, connector and the range of minutes. The last value of a
    bucket is that of its minute with the greatest time (ties: the greater value), as when two
    rollups merge."""
    return Statement(
        f"""SELECT start, sum(n), sum(total), min(low), max(high),
               max(CASE WHEN pos = 1 THEN last END), max(CASE WHEN pos = 1 THEN last_at END)
            FROM (SELECT (bucket / ?) * ? AS start, {field}_count AS n, {field}_sum AS total,
                         {field}_min AS low, {field}_max AS high, {field}_last AS last,
                         {field}_last_at AS last_at,
                         row_number() OVER (PARTITION BY bucket / ?
                             ORDER BY {field}_last_at DESC, {field}_last DESC) AS pos
                  FROM telemetry_rollups
                  WHERE device_id = ? AND connector = ? AND bucket >= ? AND bucket < ?
                        AND {field}_count > 0) AS m
            GROUP BY start ORDER BY start"""  # noqa: S608 - the field is one of FIELDS
    )


_SERIES = {field: _series(field) for field in FIELDS}
# The newest reading of each (device, connector) of a JSON array of pairs: one index seek each.
_LATEST = Statement(
    f"""SELECT {", ".join(f"t.{c}" for c in _READING_COLUMNS)}
        FROM json_each(?) AS k JOIN telemetry AS t ON t.id = (
            SELECT x.id FROM telemetry AS x
            WHERE x.device_id = json_extract(k.value, '$[0]')
              AND x.connector = json_extract(k.value, '$[1]')
            ORDER BY x.at DESC, x.id DESC LIMIT 1)""",  # noqa: S608 - constants
    f"""SELECT {", ".join(f"t.{c}" for c in _READING_COLUMNS)}
        FROM jsonb_array_elements($1::jsonb) AS k(pair) CROSS JOIN LATERAL (
            SELECT * FROM telemetry AS x
            WHERE x.device_id = k.pair->>0 AND x.connector = (k.pair->>1)::int
            ORDER BY x.at DESC, x.id DESC LIMIT 1) AS t""",  # noqa: S608 - constants
)
_EVENTS = Statement(
    f"""SELECT {", ".join(_EVENT_COLUMNS)} FROM device_events
        WHERE device_id = ? ORDER BY at DESC, id DESC LIMIT ?"""  # noqa: S608 - constants
)
_ROLLUP_KEY = ["device_id", "connector", "bucket"]
_ROLLUP_COLUMNS = _ROLLUP_KEY + [f"{f}_{part}" for f in FIELDS for part, _, _ in ROLLUP_PARTS]


# PostgreSQL's types of the columns written in batches, for their arrays.
_PG_TYPES = {sa.String: "text", sa.Integer: "int4", sa.BigInteger: "int8", sa.Float: "float8"}


def _arrays(table: sa.Table, columns: list[str]) -> str:
    """`SELECT * FROM unnest($1::text[], …)`: a batch's rows as one array per column."""
    kinds = [_PG_TYPES[type(table.c[name].type)] for name in columns]
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(kinds, 1))
    return f"SELECT * FROM unnest({arrays})"  # noqa: S608 - constants


def _insert(table: sa.Table, columns: list[str]) -> Statement:
    """Rows into `table`: on SQLite one execution per row (executemany, in C), on PostgreSQL
    one execution with an array per column."""
    into = f"INSERT INTO {table.name} ({', '.join(columns)})"
    marks = ", ".join("?" for _ in columns)
    return Statement(f"{into} VALUES ({marks})", f"{into} {_arrays(table, columns)}", arrays=True)


_INSERT_READING = _insert(telemetry, _READING_COLUMNS)
_INSERT_EVENT = Statement(
    f"INSERT INTO device_events ({', '.join(_EVENT_COLUMNS)})"  # noqa: S608 - constants
    f" VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)


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


# One partial of a batch merged into its stored rollup, run once per partial (a batch has one
# per key, and a statement may not update a row twice).
# On PostgreSQL the partials come as arrays, merged by one statement (about twice as fast as
# one execution per partial).
_ROLLUP_INTO = f"INSERT INTO telemetry_rollups ({', '.join(_ROLLUP_COLUMNS)})"
_ROLLUP_MERGE = (
    f" ON CONFLICT ({', '.join(_ROLLUP_KEY)}) DO UPDATE SET"
    f" {', '.join(clause for field in FIELDS for clause in _merge(field))}"
)
_UPSERT = Statement(
    f"{_ROLLUP_INTO} VALUES ({', '.join('?' for _ in _ROLLUP_COLUMNS)}){_ROLLUP_MERGE}",
    f"{_ROLLUP_INTO} {_arrays(telemetry_rollups, _ROLLUP_COLUMNS)}{_ROLLUP_MERGE}",
    arrays=True,
)


class SqlTelemetryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, readings: Sequence[Reading]) -> None:
        rows = list(readings)
        await self._db.run_together((_INSERT_READING, rows), (_UPSERT, rollup(rows)))

    def append_gathered(
        self, take: Callable[[], Sequence[Reading]], committed: asyncio.Future[Any]
    ) -> None:
        def build() -> Together:
            rows = list(take())
            return Together((_many(_INSERT_READING, rows), _many(_UPSERT, rollup(rows))))

        self._db.submit(Deferred(build), committed)

    async def add_rollups(self, readings: Sequence[Reading]) -> None:
        await self._db.run_together((_UPSERT, rollup(readings)))

    async def readings(
        self,
        device_id: str,
        connector: int | None,
        start: float,
        end: float,
        after: tuple[float, int] | None,
        limit: int,
    ) -> list[tuple[int, Reading]]:
        args: list[Any] = [device_id] if connector is None else [device_id, connector]
        args += (start, end)
        if after is not None:
            at, row_id = after
            args += (at, at, row_id)
        statement = _RAW[connector is not None, after is not None]
        # One connector's readings come in index order; all of them are sorted, off the loop.
        read = self._db.reader.all if connector is not None else self._db.reader.scan
        rows = await read(statement, *args, limit)
        return [(row[0], Reading(*row[1:])) for row in rows]

    async def buckets(
        self, device_id: str, connector: int, field: str, start: int, end: int, length: int
    ) -> list[Bucket]:
        args = (length, length, length, device_id, connector, start, end)
        return [
            Bucket(int(row[0]), int(row[1]), *(float(v) for v in row[2:]))
            for row in await self._db.reader.scan(_SERIES[field], *args)
        ]

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

    async def latest(self, connectors: Sequence[tuple[str, int]]) -> list[Reading]:
        if not connectors:
            return []
        rows = await self._db.reader.all(_LATEST, orjson.dumps(connectors).decode())
        return [Reading(*row) for row in rows]

    async def add_events(self, events: Sequence[Event]) -> None:
        await self._db.run_together((_INSERT_EVENT, list(events)))

    async def events(self, device_id: str, limit: int) -> list[Event]:
        return [Event(*row) for row in await self._db.reader.all(_EVENTS, device_id, limit)]


def _many(statement: Statement, rows: list[Any]) -> Run:
    """One statement run for each of `rows`, as a write of a batch."""
    return Run(statement, rows, returning=False, many=True)
