"""Times that only move forward, per key (a charger's last heartbeat, an app's last use),
kept beside a read model.

They change far more often than the rows they belong to, so a change is neither a row reload
nor a broadcast of its own: the writer commits the new time, notes it here and publishes it
with the next batch (`Changes.publish_soon`) as `key@time`; other processes take the time
from the message itself, with no read of the database. A read model merges the noted time
into every row it loads (`merged`), so a whole reload that read the row before the time was
committed still ends up with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voltgate.changes import Changes

Heard = Callable[[str, float], Awaitable[None]]


class Stamps:
    def __init__(self, topic: str, changes: Changes, heard: Heard) -> None:
        """`heard(key, at)` when another process moved `key` forward to `at`."""
        self._topic = topic
        self._changes = changes
        self._heard = heard
        self._times: dict[str, float] = {}
        changes.subscribe(topic, self._received)

    def __len__(self) -> int:
        return len(self._times)

    def get(self, key: str) -> float | None:
        return self._times.get(key)

    async def advance(self, key: str, at: float) -> bool:
        """This process committed `at` for `key`: noted, and published with the next batch.
        False (and nothing published) when `at` is not later than the time already known."""
        if not self._forward(key, at):
            return False
        await self._changes.publish_soon(self._topic, (f"{key}@{at!r}",))
        return True

    def merged(self, key: str, stored: float | None) -> float | None:
        """The later of a stored time and the one noted here."""
        known = self._times.get(key)
        if known is None or (stored is not None and stored >= known):
            return stored
        return known

    def forget(self, key: str) -> None:
        self._times.pop(key, None)

    def _forward(self, key: str, at: float) -> bool:
        known = self._times.get(key)
        if known is not None and known >= at:
            return False
        self._times[key] = at
        return True

    async def _received(self, keys: list[str]) -> None:
        for raw in keys:
            key, _, text = raw.rpartition("@")
            try:
                at = float(text)
            except ValueError:
                continue
            if key and self._forward(key, at):
                await self._heard(key, at)
