"""Each connector's newest reading, answered from memory.

A device's latest readings are read from SQL (one statement) the first time this process is
asked for them; from then on they are kept current by this process's ingest at once (before
the flush stores them), and by other instances' flushes: each flush publishes the ids of the
devices it stored, once (topic `telemetry`), and every other instance reads the newest rows of
those it holds in one statement. The newest reading time wins, so the order in which ingest,
loads and publications arrive does not matter.

Memory: one reading per connector of each device ingested here or asked about (~0.3 KB), so a
fleet of 10,000 two-connector chargers holds ~6 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog

from voltgate.changes import Changes
from voltgate.readmodel import Versions
from voltgate.telemetry.store import Reading, TelemetryStore

log = structlog.get_logger("voltgate.telemetry")

TOPIC = "telemetry"
_CHUNK = 500  # (device, connector) pairs read by one statement


class LatestReadings:
    def __init__(self, store: TelemetryStore, changes: Changes) -> None:
        self._store = store
        self._changes = changes
        self._rows: dict[tuple[str, int], Reading] = {}
        self._held: dict[str, tuple[int, ...]] = {}  # device → its connectors, once asked for
        self._loaded: set[str] = set()
        # Per device: moved by every reading accepted here and every flush stored anywhere,
        # so answers kept from a charger's telemetry (latest, ranges, series, events) renew.
        self.versions = Versions()
        changes.subscribe(TOPIC, self._changed, self._reload)

    def ingested(self, readings: Iterable[Reading]) -> None:
        """Readings this process accepted (a later or equal time replaces the held one)."""
        rows = self._rows
        moved = self.versions.changed
        for reading in readings:
            moved(reading.device_id)
            key = (reading.device_id, reading.connector)
            known = rows.get(key)
            if known is None or reading.at >= known.at:
                rows[key] = reading

    async def of(self, device_id: str, connectors: Sequence[int]) -> list[Reading]:
        """The newest reading of each of the device's connectors that has one."""
        if device_id not in self._loaded:
            # Held before the read, so a flush published meanwhile is read again, not missed.
            self._held[device_id] = tuple(connectors)
            await self._read([device_id])
            self._loaded.add(device_id)
        rows = self._rows
        return [rows[(device_id, n)] for n in connectors if (device_id, n) in rows]

    async def stored(self, device_ids: list[str]) -> None:
        """A flush stored readings of these devices: tell the other instances."""
        for device_id in device_ids:
            self.versions.changed(device_id)
        try:
            await self._changes.publish(TOPIC, device_ids)
        except Exception:
            # Stored all the same; the others catch up at these devices' next flush.
            log.warning("telemetry_change_unpublished", devices=len(device_ids), exc_info=True)

    def clear(self) -> None:
        """Forget everything, as a process that has not heard from any charger yet."""
        self._rows.clear()
        self._held.clear()
        self._loaded.clear()
        self.versions.changed_all()

    async def _changed(self, device_ids: list[str]) -> None:
        await self._read([d for d in device_ids if d in self._held])
        for device_id in device_ids:
            self.versions.changed(device_id)

    async def _reload(self) -> None:
        await self._read(list(self._held))
        self.versions.changed_all()

    async def _read(self, device_ids: list[str]) -> None:
        pairs = [(d, n) for d in device_ids for n in self._held.get(d, ())]
        rows = self._rows
        for first in range(0, len(pairs), _CHUNK):
            for reading in await self._store.latest(pairs[first : first + _CHUNK]):
                key = (reading.device_id, reading.connector)
                known = rows.get(key)
                # A tie keeps the held one: it may be newer in this process than in storage.
                if known is None or reading.at > known.at:
                    rows[key] = reading
