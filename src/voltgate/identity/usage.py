"""Each app's usage per minute: requests, tokens issued, rate-limit refusals and errors.

Counted in process (a dict increment on the hot path, no I/O) and flushed to the store by the
group-commit writer every few seconds and at shutdown; the store adds each flush to the
minute's row, so instances and restarts sum. Only clients this process holds are counted: a
made-up client id in a failed request costs no memory and no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

BUCKET = 60  # seconds per stored row
MAX_KEYS = 20_000  # (app, minute) pairs held between two flushes; past it, new ones go uncounted
FIELDS = ("requests", "tokens", "limited", "errors")
_REQUESTS, _TOKENS, _LIMITED, _ERRORS = range(4)


@dataclass(frozen=True, slots=True)
class UsageRow:
    client_id: str
    bucket: int  # the minute's first second (Unix time)
    requests: int
    tokens: int
    limited: int
    errors: int


class UsageStore(Protocol):
    async def add(self, rows: list[UsageRow]) -> None:
        """Add each row's counts to its (app, minute) row, creating it when new."""

    async def since(self, client_id: str, start: int) -> list[UsageRow]:
        """The app's rows from the minute `start` on, oldest first."""


class Usage:
    def __init__(self, now: Callable[[], float], known: Callable[[str], bool]) -> None:
        self._now = now
        self._known = known
        self._counts: dict[tuple[str, int], list[int]] = {}

    def request(self, client_id: str) -> None:
        """A request the app made with its credentials or one of its tokens."""
        self._add(client_id, _REQUESTS)

    def issued(self, client_id: str) -> None:
        self._add(client_id, _TOKENS)

    def limited(self, client_id: str | None) -> None:
        self._add(client_id, _LIMITED)

    def failed(self, client_id: str | None) -> None:
        self._add(client_id, _ERRORS)

    def answered(self, client_id: str | None, status: int) -> None:
        """A refusal of the app's request, by its status: 429 is a rate limit, any other an
        error."""
        self._add(client_id, _LIMITED if status == 429 else _ERRORS)

    def _add(self, client_id: str | None, field: int) -> None:
        if client_id is None or not self._known(client_id):
            return
        key = (client_id, int(self._now()) // BUCKET * BUCKET)
        counts = self._counts.get(key)
        if counts is None:
            if len(self._counts) >= MAX_KEYS:
                return
            counts = self._counts[key] = [0, 0, 0, 0]
        counts[field] += 1

    def restore(self, rows: list[UsageRow]) -> None:
        """Rows a flush could not store, counted again (added to what came since)."""
        for row in rows:
            counts = self._counts.setdefault((row.client_id, row.bucket), [0, 0, 0, 0])
            for index, name in enumerate(FIELDS):
                counts[index] += getattr(row, name)

    def drain(self) -> list[UsageRow]:
        """What was counted since the last drain, as rows to add (the counts start again)."""
        counts, self._counts = self._counts, {}
        return [UsageRow(c, b, *values) for (c, b), values in counts.items()]
