"""Whether a vehicle is online, asleep or offline, from its last connectivity record: what the
Tesla routes answer as `state` for a vehicle that streams, and why a command to an offline one
is 408 at once (nothing could wake it).

Kept in memory and followed by reading the records added since (every `interval`), so a read
costs no SQL and every instance hears of a listener's records, on SQLite from another process
too, within that interval. The read goes back `_LOOKBACK` ids: on PostgreSQL a record with a
smaller id may commit after a larger one was read; a record is applied only when it is newer
than the one the vehicle has, so reading one twice changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from voltgate.fleettelemetry.ingest.store import Connectivity, IngestStore

log = structlog.get_logger("voltgate.fleettelemetry")
# A vehicle that closed its socket with a goodbye (1000 / 1001) went to sleep; any other end
# (dropped, refused, the listener stopped or crashed) leaves it unreachable.
_ASLEEP = "asleep"
_LOOKBACK = 256


def _link(record: Connectivity) -> str:
    if record.status == "CONNECTED":
        return "online"
    return "asleep" if record.reason == _ASLEEP else "offline"


class ConnectivityLinks:
    def __init__(self, store: IngestStore, interval: float = 0.2) -> None:
        self._store = store
        self._interval = interval
        self._links: dict[str, tuple[int, str]] = {}  # vin → (record id, link)
        self._last = 0
        self._task: asyncio.Task[None] | None = None

    def link(self, vin: str) -> str | None:
        found = self._links.get(vin)
        return None if found is None else found[1]

    async def refresh(self) -> None:
        """Reads the records added since the last read."""
        for record_id, record in await self._store.connectivity_since(self._last - _LOOKBACK):
            known = self._links.get(record.vin)
            if known is None or known[0] < record_id:
                self._links[record.vin] = (record_id, _link(record))
            self._last = max(self._last, record_id)

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.refresh()
            except Exception:  # the database is away: try again next time
                log.warning("connectivity_refresh_failed", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
