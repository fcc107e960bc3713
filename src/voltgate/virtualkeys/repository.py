"""SQL for paired virtual keys (SQLite and PostgreSQL alike): statements built once, rows read
by position, writes group-committed. A key is stored as its point in hex."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.statements import Row, Statement
from voltgate.virtualkeys.store import PairedKey

_COLUMNS = "vin, client_id, public_key, role, user_id, paired_at"
_SELECT = f"SELECT {_COLUMNS} FROM vehicle_keys"  # noqa: S608 - constants
_ALL = Statement(f"{_SELECT} ORDER BY vin, client_id, public_key")
_OF_VEHICLE = Statement(f"{_SELECT} WHERE vin = ? ORDER BY client_id, public_key")
_ONE = Statement(f"{_SELECT} WHERE vin = ? AND client_id = ? AND public_key = ?")
_PAIR = Statement(
    f"INSERT INTO vehicle_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608 - constants
    " ON CONFLICT (vin, client_id, public_key) DO UPDATE SET role = excluded.role,"
    " user_id = excluded.user_id, paired_at = excluded.paired_at"
)
_UNPAIR = Statement("DELETE FROM vehicle_keys WHERE vin = ? AND client_id = ? AND public_key = ?")
_UNPAIR_APP = sa.text(
    "DELETE FROM vehicle_keys WHERE client_id = :client_id AND user_id = :user_id"  # noqa: S608
    f" RETURNING {_COLUMNS}"
)


def _key(row: Row) -> PairedKey:
    vin, client_id, public_key, role, user_id, paired_at = row
    return PairedKey(vin, client_id, bytes.fromhex(public_key), role, user_id, float(paired_at))


class SqlPairingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def pair(self, keys: Sequence[PairedKey]) -> None:
        rows = [
            (k.vin, k.client_id, k.public_key.hex(), k.role, k.user_id, k.paired_at) for k in keys
        ]
        if rows:
            await self._db.run_together((_PAIR, rows))

    async def unpair(self, vin: str, client_id: str, public_key: bytes) -> bool:
        return bool(await self._db.run(_UNPAIR, vin, client_id, public_key.hex()))

    async def unpair_app(self, client_id: str, user_id: str) -> list[PairedKey]:
        params = {"client_id": client_id, "user_id": user_id}
        rows = await self._db.write(lambda conn: conn.execute(_UNPAIR_APP, params).all())
        return [_key(row) for row in rows]

    async def of_vehicle(self, vin: str) -> list[PairedKey]:
        return [_key(row) for row in await self._db.reader.all(_OF_VEHICLE, vin)]

    async def one(self, vin: str, client_id: str, public_key: bytes) -> PairedKey | None:
        row = await self._db.reader.one(_ONE, vin, client_id, public_key.hex())
        return None if row is None else _key(row)

    async def all(self) -> list[PairedKey]:
        """Every paired key (the read model's load)."""
        return [_key(row) for row in await self._db.reader.scan(_ALL)]
