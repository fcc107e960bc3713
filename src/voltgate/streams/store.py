"""What a tailer reads (`repository.py` implements it for SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Row = Sequence[Any]  # the row's id first, then the tailed columns in their order


class TailStore(Protocol):
    async def top(self) -> int:
        """The greatest id committed so far (0 for an empty table)."""

    async def after(self, last: int, limit: int) -> list[Row]:
        """At most `limit` committed rows with an id above `last`, by id."""

    async def rows(self, ids: Sequence[int]) -> list[Row]:
        """Those of these ids that are committed, by id."""
