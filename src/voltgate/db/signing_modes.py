"""SQL for a client's request-signing mode (`identity.stores.SigningModeStore`)."""

from __future__ import annotations

from voltgate.db.engine import Database
from voltgate.db.schema import clients


class SqlSigningModeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_signing(self, client_id: str, mode: str) -> bool:
        change = clients.update().where(clients.c.id == client_id).values(signing=mode)
        return await self._db.write(lambda conn: conn.execute(change).rowcount == 1)
