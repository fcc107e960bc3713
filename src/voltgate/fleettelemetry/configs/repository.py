"""SQL for telemetry configs (SQLite and PostgreSQL alike).

Reads go through statements built once, rows read by position. Every write first moves the
`state` counter named `CONFIG_SEQ_KEY` and stamps the rows it changes with the new value, in
the same transaction: the counter's row lock makes concurrent writers take their numbers in
the order they commit, so a reader that has seen every row up to `seq` n and then reads the
rows past n misses none (`changed_since`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema.telemetry_configs import CONFIG_SEQ_KEY
from voltgate.db.statements import Row, Statement
from voltgate.fleettelemetry.configs.store import (
    Applied,
    ConfigRecord,
    Configs,
    TelemetryConfig,
)

_COLUMNS = "client_id, vin, user_id, config, version, applied_version, updated_at, seq"
_SELECT = f"SELECT {_COLUMNS} FROM fleet_telemetry_configs"  # noqa: S608 - constants
_GET = Statement(f"{_SELECT} WHERE client_id = ? AND vin = ?")
_OF_VEHICLE = Statement(f"{_SELECT} WHERE vin = ? ORDER BY client_id")
_SINCE = Statement(f"{_SELECT} WHERE seq > ? ORDER BY seq")
_ANY_OF_USER = Statement(
    "SELECT 1 FROM fleet_telemetry_configs"
    " WHERE client_id = ? AND user_id = ? AND config IS NOT NULL LIMIT 1"
)

_NEXT_SEQ = sa.text("UPDATE state SET value = value + 1 WHERE key = :key RETURNING value")
_FIRST_SEQ = sa.text("INSERT INTO state (key, value) VALUES (:key, 1)")
_RETURNING = f" RETURNING {_COLUMNS}"
_UPSERT = (
    "INSERT INTO fleet_telemetry_configs (client_id, vin, user_id, config, version,"
    " applied_version, updated_at, seq) VALUES (:client_id, :vin, :user_id, :config, 1, 0, :at,"
    " :seq) ON CONFLICT (client_id, vin) DO UPDATE SET user_id = excluded.user_id,"
    " config = excluded.config, version = fleet_telemetry_configs.version + 1,"
    " updated_at = excluded.updated_at, seq = excluded.seq"
)
_SAVE = sa.text(_UPSERT + _RETURNING)
_DELETED = (
    "UPDATE fleet_telemetry_configs SET config = NULL, version = version + 1,"
    " updated_at = :at, seq = :seq WHERE client_id = :client_id AND config IS NOT NULL"
)
_DELETE = sa.text(_DELETED + " AND vin = :vin" + _RETURNING)
_DELETE_FOR_USER = sa.text(_DELETED + " AND user_id = :user_id" + _RETURNING)
_APPLY = (
    "UPDATE fleet_telemetry_configs SET applied_version = :version, seq = :seq"
    " WHERE client_id = :client_id AND vin = :vin AND version >= :version"
    " AND applied_version < :version"
)
_APPLIED = sa.text(_APPLY + _RETURNING)


def _record(row: Row) -> ConfigRecord:
    client_id, vin, user_id, config, version, applied, updated_at, seq = row
    return ConfigRecord(
        client_id=client_id,
        vin=vin,
        user_id=user_id,
        config=None if config is None else TelemetryConfig.from_document(orjson.loads(config)),
        version=int(version),
        applied_version=int(applied),
        updated_at=float(updated_at),
        seq=int(seq),
    )


def _next_seq(conn: sa.Connection) -> int:
    value = conn.execute(_NEXT_SEQ, {"key": CONFIG_SEQ_KEY}).scalar()
    if value is None:  # a database whose counter row is gone: start it again
        conn.execute(_FIRST_SEQ, {"key": CONFIG_SEQ_KEY})
        return 1
    return int(value)


class SqlConfigStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, client_id: str, vin: str) -> ConfigRecord | None:
        row = await self._db.reader.one(_GET, client_id, vin)
        return None if row is None else _record(row)

    async def of_vehicle(self, vin: str) -> list[ConfigRecord]:
        return [_record(row) for row in await self._db.reader.all(_OF_VEHICLE, vin)]

    async def all(self) -> list[ConfigRecord]:
        return await self.changed_since(0)

    async def changed_since(self, seq: int) -> list[ConfigRecord]:
        """The records written after the one stamped `seq`, in the order they were written."""
        return [_record(row) for row in await self._db.reader.scan(_SINCE, seq)]

    async def save(
        self, client_id: str, user_id: str, configs: Configs, at: float
    ) -> list[ConfigRecord]:
        def work(conn: sa.Connection) -> list[ConfigRecord]:
            seq = _next_seq(conn)
            saved = []
            for vin, config in configs:
                values = {
                    "client_id": client_id,
                    "vin": vin,
                    "user_id": user_id,
                    "config": orjson.dumps(config.document()).decode(),
                    "at": at,
                    "seq": seq,
                }
                saved.append(_record(conn.execute(_SAVE, values).one()))
            return saved

        return await self._db.write(work)

    async def delete(self, client_id: str, vins: Sequence[str], at: float) -> list[ConfigRecord]:
        keys = [{"client_id": client_id, "vin": vin} for vin in vins]
        return await self._changing(_DELETE, keys, at=at)

    async def delete_for_user(self, client_id: str, user_id: str, at: float) -> list[ConfigRecord]:
        if await self._db.reader.one(_ANY_OF_USER, client_id, user_id) is None:
            return []  # most apps configure nothing: no write
        return await self._changing(
            _DELETE_FOR_USER, [{"client_id": client_id, "user_id": user_id}], at=at
        )

    async def mark_applied(self, applied: Sequence[Applied]) -> list[ConfigRecord]:
        keys = [{"client_id": a.client_id, "vin": a.vin, "version": a.version} for a in applied]
        return await self._changing(_APPLIED, keys)

    async def _changing(
        self, statement: sa.TextClause, keys: list[dict[str, Any]], **shared: Any
    ) -> list[ConfigRecord]:
        """`statement` once for each of `keys`, in one transaction: the rows it returned."""
        if not keys:
            return []

        def work(conn: sa.Connection) -> list[ConfigRecord]:
            seq = _next_seq(conn)
            changed: list[ConfigRecord] = []
            for key in keys:
                rows = conn.execute(statement, {**key, **shared, "seq": seq}).all()
                changed.extend(_record(row) for row in rows)
            return changed

        return await self._db.write(work)
