"""SQL for the ingest (SQLite and PostgreSQL): messages stored once each, their numeric signals
merged into 1-minute rollups in the same transaction, connectivity records.

A batch is one transaction. On SQLite its messages are one `executemany` of `INSERT OR IGNORE`
on the writer's driver connection: when the row count is the batch's size, every message was
new (the usual case); else that is undone (to a savepoint) and each message inserted on its
own, its row count saying whether it was new. On PostgreSQL the batch is one `INSERT … SELECT
unnest(…) ON CONFLICT DO NOTHING RETURNING` on an asyncpg connection. Only the new messages'
signals reach the rollups, so a resend never counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
import structlog

from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ingest.rollups import rollup
from voltgate.fleettelemetry.ingest.store import Connectivity, Message, Numbers

log = structlog.get_logger("voltgate.fleettelemetry")

_MESSAGE_COLUMNS = ", ".join(Message._fields)
_CONNECTIVITY_COLUMNS = ", ".join(Connectivity._fields)
_INSERT_MESSAGE = (
    f"INSERT OR IGNORE INTO vehicle_messages ({_MESSAGE_COLUMNS})"  # noqa: S608 - constants
    f" VALUES ({', '.join('?' for _ in Message._fields)})"
)
_INSERT_MESSAGES_PG = (
    f"INSERT INTO vehicle_messages ({_MESSAGE_COLUMNS})"  # noqa: S608 - constants
    " SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::float8[], $5::float8[],"
    " $6::bytea[]) ON CONFLICT DO NOTHING RETURNING vin, txid, created_at"
)
_ROLLUP_COLUMNS = "vin, field, bucket, count, sum, min, max, last, last_at"
_MERGE = """ON CONFLICT (vin, field, bucket) DO UPDATE SET
    count = vehicle_signal_rollups.count + excluded.count,
    sum = vehicle_signal_rollups.sum + excluded.sum,
    min = CASE WHEN excluded.min < vehicle_signal_rollups.min
               THEN excluded.min ELSE vehicle_signal_rollups.min END,
    max = CASE WHEN excluded.max > vehicle_signal_rollups.max
               THEN excluded.max ELSE vehicle_signal_rollups.max END,
    last = CASE WHEN excluded.last_at >= vehicle_signal_rollups.last_at
                THEN excluded.last ELSE vehicle_signal_rollups.last END,
    last_at = CASE WHEN excluded.last_at >= vehicle_signal_rollups.last_at
                   THEN excluded.last_at ELSE vehicle_signal_rollups.last_at END"""
_UPSERT = " ".join(
    f"INSERT INTO vehicle_signal_rollups ({_ROLLUP_COLUMNS})"  # noqa: S608 - constants
    f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) {_MERGE}".split()
)
_ARRAYS = (
    "unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::float8[], $6::float8[],"
    " $7::float8[], $8::float8[], $9::float8[])"
)
_UPSERT_PG = " ".join(
    f"INSERT INTO vehicle_signal_rollups ({_ROLLUP_COLUMNS})"  # noqa: S608 - constants
    f" SELECT * FROM {_ARRAYS} {_MERGE}".split()
)
_INSERT_CONNECTIVITY = Statement(
    f"INSERT INTO vehicle_connectivity ({_CONNECTIVITY_COLUMNS})"  # noqa: S608 - constants
    f" VALUES ({', '.join('?' for _ in Connectivity._fields)})"
)
_CONNECTIVITY_SINCE = Statement(
    f"SELECT id, {_CONNECTIVITY_COLUMNS} FROM vehicle_connectivity"  # noqa: S608 - constants
    " WHERE id > ? ORDER BY id"
)
_LATEST_CONNECTIVITY = Statement(
    f"SELECT id, {_CONNECTIVITY_COLUMNS} FROM vehicle_connectivity"  # noqa: S608 - constants
    " WHERE id IN (SELECT max(id) FROM vehicle_connectivity GROUP BY vin) ORDER BY id"
)
_STILL_CONNECTED = Statement(
    f"SELECT {_CONNECTIVITY_COLUMNS} FROM vehicle_connectivity AS c"  # noqa: S608 - constants
    " WHERE c.ingest = ? AND c.status = 'CONNECTED'"
    " AND c.id = (SELECT max(x.id) FROM vehicle_connectivity AS x WHERE x.vin = c.vin)"
)
_DAY = 86_400
# Days of partitions made ahead (and kept behind, for late messages) on PostgreSQL.
_DAYS_AROUND = 2


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class SqlIngestStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[bool]:
        if self._db.is_sqlite:
            fresh: list[bool] = await self._db.write(
                lambda conn: _append_sqlite(conn, messages, numbers)
            )
            return fresh
        return await self._append_postgres(messages, numbers)

    async def _append_postgres(
        self, messages: Sequence[Message], numbers: Sequence[Numbers]
    ) -> list[bool]:
        pool = await self._db.reader.pool()  # type: ignore[attr-defined]
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_INSERT_MESSAGES_PG, *_columns(messages, 6))
            stored = {(row[0], bytes(row[1]), row[2]) for row in rows}
            fresh = []
            for m in messages:  # a resend in the batch of its original: one row, new once
                key = (m.vin, m.txid, m.created_at)
                fresh.append(key in stored)
                stored.discard(key)
            partials = rollup(*_new(messages, numbers, fresh))
            if partials:
                await conn.execute(_UPSERT_PG, *_columns(partials, 9))
        return fresh

    async def connectivity(self, record: Connectivity) -> None:
        await self._db.run(_INSERT_CONNECTIVITY, *record)

    async def connectivity_since(self, after_id: int) -> list[tuple[int, Connectivity]]:
        if after_id <= 0:
            rows = await self._db.reader.scan(_LATEST_CONNECTIVITY)
        else:
            rows = await self._db.reader.scan(_CONNECTIVITY_SINCE, after_id)
        return [(int(row[0]), Connectivity(*row[1:])) for row in rows]

    async def still_connected(self, ingest: str) -> list[Connectivity]:
        return [Connectivity(*row) for row in await self._db.reader.scan(_STILL_CONNECTED, ingest)]

    async def prepare(self, now: float) -> None:
        if self._db.is_sqlite:
            return
        today = int(now // _DAY) * _DAY
        for day in range(today - _DAYS_AROUND * _DAY, today + (_DAYS_AROUND + 1) * _DAY, _DAY):
            await self._db.write(partial(_partition, day=day))


def _new(
    messages: Sequence[Message], numbers: Sequence[Numbers], fresh: list[bool]
) -> tuple[list[Message], list[Numbers]]:
    """The messages stored now (not resends of stored ones) and their numbers."""
    if all(fresh):
        return list(messages), list(numbers)
    kept = [(m, i) for m, i, new in zip(messages, numbers, fresh, strict=True) if new]
    return [m for m, _ in kept], [i for _, i in kept]


def _append_sqlite(
    conn: sa.Connection, messages: Sequence[Message], numbers: Sequence[Numbers]
) -> list[bool]:
    raw: Any = conn.connection.dbapi_connection
    raw.execute("SAVEPOINT messages")
    if raw.executemany(_INSERT_MESSAGE, messages).rowcount == len(messages):
        raw.execute("RELEASE messages")
        fresh = [True] * len(messages)
    else:  # resends among them: which ones, message by message
        raw.execute("ROLLBACK TO messages")
        raw.execute("RELEASE messages")
        fresh = [raw.execute(_INSERT_MESSAGE, message).rowcount == 1 for message in messages]
    partials = rollup(*_new(messages, numbers, fresh))
    if partials:
        raw.executemany(_UPSERT, partials)
    return fresh


def _partition(conn: sa.Connection, *, day: int) -> None:
    """The day's partition, unless it is there or its rows already sit in the default one."""
    name = "vehicle_messages_p" + dt.datetime.fromtimestamp(day, dt.UTC).strftime("%Y%m%d")
    exists = conn.execute(sa.text("SELECT to_regclass(:name)"), {"name": name}).scalar()
    if exists is not None:
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                f"CREATE TABLE {name} PARTITION OF vehicle_messages"
                f" FOR VALUES FROM ({day}) TO ({day + _DAY})"
            )
    except sa.exc.DBAPIError:  # rows of that day in the default partition: they stay there
        log.warning("telemetry_partition_not_made", partition=name)
