"""SQL for telemetry readings and device events (SQLite and PostgreSQL).

Readings arrive in batches of thousands: they are inserted with one `executemany` of plain
tuples on the driver, without building a dict per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import device_events, telemetry
from voltgate.telemetry.store import Event, Reading

_READING_COLUMNS = [c for c in Reading._fields]
_EVENT_COLUMNS = [c for c in Event._fields]


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


def _reading(row: sa.Row[tuple[object, ...]]) -> Reading:
    return Reading(*(getattr(row, name) for name in _READING_COLUMNS))


class SqlTelemetryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, readings: Sequence[Reading]) -> None:
        rows = list(readings)

        def insert(conn: sa.Connection) -> None:
            conn.exec_driver_sql(_insert_sql(conn, "telemetry", _READING_COLUMNS), rows)

        await self._db.write(insert)

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
