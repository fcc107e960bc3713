"""SQL of the tailers: a table's rows by id, through statements built once per tailed table
(at start-up), read by position.

Each read is bounded (a page of rows after an id, by the primary key; a few ids), so on
SQLite it runs on the loop's own thread with the stdlib driver (`db.reader.all`, ~15 µs plus
a few µs a row) rather than queueing on the reader thread behind a long history scan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson

from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.streams.store import Row

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class SqlTail:
    """The committed rows of `table` (an integer `id` key) with `columns`, by id."""

    def __init__(self, db: Database, table: str, columns: Sequence[str]) -> None:
        for name in (table, *columns):
            if not _NAME.match(name):
                raise ValueError(f"not a plain SQL name: {name!r}")
        self._db = db
        chosen = ", ".join(("id", *columns))
        self._top = Statement(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
        self._after = Statement(
            f"SELECT {chosen} FROM {table} WHERE id > ? ORDER BY id LIMIT ?"  # noqa: S608
        )
        self._some = Statement(
            f"SELECT {chosen} FROM {table}"  # noqa: S608 - checked names
            " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            f"SELECT {chosen} FROM {table} WHERE id = ANY($1::int8[]) ORDER BY id",  # noqa: S608
        )

    async def top(self) -> int:
        row = await self._db.reader.one(self._top)
        return 0 if row is None or row[0] is None else int(row[0])

    async def after(self, last: int, limit: int) -> list[Row]:
        return await self._db.reader.all(self._after, last, limit)

    async def rows(self, ids: Sequence[int]) -> list[Row]:
        if not ids:
            return []
        wanted = orjson.dumps(list(ids)).decode() if self._db.is_sqlite else list(ids)
        return await self._db.reader.all(self._some, wanted)
