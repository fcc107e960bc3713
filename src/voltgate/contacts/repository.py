"""SQL for contacts (statements built once; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from voltgate.db.engine import Database
from voltgate.db.statements import Statement

_ADD_USERNAME = Statement(
    "INSERT INTO contacts (user_id, username, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
_BY_USERNAME = Statement("SELECT user_id FROM contacts WHERE username = ?")
_USERNAME_OF = Statement("SELECT username FROM contacts WHERE user_id = ?")
_LINKED = Statement("SELECT user_id FROM external_identities WHERE issuer = ? AND subject = ?")
_LINK = Statement(
    """INSERT INTO external_identities (issuer, subject, user_id, created_at)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"""
)


class SqlContactStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_username(self, user_id: str, username: str, at: float) -> bool:
        return await self._db.run(_ADD_USERNAME, user_id, username, at) == 1

    async def user_by_username(self, username: str) -> str | None:
        row = await self._db.reader.one(_BY_USERNAME, username)
        return None if row is None else str(row[0])

    async def username_of(self, user_id: str) -> str | None:
        row = await self._db.reader.one(_USERNAME_OF, user_id)
        return None if row is None else str(row[0])

    async def linked(self, issuer: str, subject: str) -> str | None:
        row = await self._db.reader.one(_LINKED, issuer, subject)
        return None if row is None else str(row[0])

    async def link(self, issuer: str, subject: str, user_id: str, at: float) -> str:
        await self._db.run(_LINK, issuer, subject, user_id, at)
        linked = await self.linked(issuer, subject)  # a concurrent first use may have won
        assert linked is not None
        return linked
