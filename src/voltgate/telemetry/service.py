"""Telemetry: readings stored by group commit before they are acknowledged, latest kept in
memory.

Every charger posts a reading about every 5 s. The request path checks the body against the
charger's connectors (from the devices' read model; the map of their ratings is kept while
they are unchanged), learns the connectors a charger registered without any names (a write
only when one is new or its type or power is), adds the readings to the batch being gathered
and waits for that batch's commit; only then does it answer 202. A batch goes to the
database's group writer as its first reading arrives and takes every reading that comes until
its transaction starts (the writer's next turn on SQLite, a free connection on PostgreSQL);
its commit answers every request of it with one wake-up. Idle, a batch is one request's
readings, written at once; under load the readings that arrive during a commit form the next
batch, so batches (and the work a commit shares) grow with the load, and no timer adds
latency. An accepted reading is never lost to a crash. The batch being gathered is bounded:
when storage falls behind, ingest answers 429 (code 5001) instead of growing without limit;
when a commit fails, each request of its batch answers 503 (code 5002) and nothing of it is
stored.

The same write merges the batch into 1-minute rollups, from which downsampled series (1 min,
15 min, 1 h) are answered; a sweep every few minutes deletes raw readings and rollups past their
retention, in bounded chunks, so it never holds the database for long.

Each call also counts as the device being heard from (its heartbeat): `last_seen_at` is moved
by a task of its own (before the 202 of the request that made it due), at most once per
`touch_every` seconds per device, far inside the 90 s after which a device shows offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import orjson
import structlog

from voltgate.clock import Clock
from voltgate.devices.schemas import MAX_CONNECTOR_KW
from voltgate.devices.service import Devices
from voltgate.devices.store import Connector, Device
from voltgate.errors import NotFound, NotStored, RateLimited, ValidationFailed
from voltgate.histogram import Histogram
from voltgate.pagination import Slice, decode_cursor, encode_cursor
from voltgate.telemetry import rollups, schemas
from voltgate.telemetry.batch import Batch
from voltgate.telemetry.latest import LatestReadings
from voltgate.telemetry.store import Bucket, Event, Reading, TelemetryStore

log = structlog.get_logger("voltgate.telemetry")

TOUCH_EVERY = 10.0
SWEEP_EVERY = 300.0
SWEEP_CHUNK = 5_000
MAX_LIMIT = 1_000
# Told of each batch once it has committed (the charge points' statuses follow the states);
# runs on the ingest path, so it does no I/O itself.
ReadingsListener = Callable[[Sequence[Reading]], None]
HISTORY_CHUNK = 20_000  # readings of a seeded history written per transaction
BATCH_BOUNDS = (1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000)
COMMIT_BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Telemetry:
    def __init__(
        self,
        store: TelemetryStore,
        devices: Devices,
        clock: Clock,
        latest: LatestReadings,
        *,
        max_pending: int = 200_000,
        touch_every: float = TOUCH_EVERY,
        raw_retention: float = 7 * 86_400.0,
        rollup_retention: float = 400 * 86_400.0,
        sweep_every: float = SWEEP_EVERY,
        listeners: Sequence[ReadingsListener] = (),
    ) -> None:
        self._store = store
        self._listeners = tuple(listeners)
        self._devices = devices
        self._clock = clock
        self._max_pending = max_pending
        self._touch_every = touch_every
        self._raw_retention = raw_retention
        self._rollup_retention = rollup_retention
        self._sweep_every = sweep_every
        # device -> (its connectors, connector -> max kW): rebuilt when they change
        self._ports: dict[str, tuple[tuple[Connector, ...], dict[int, float]]] = {}
        self._batch: Batch | None = None  # the batch being gathered
        self._pending = 0  # readings waiting for their commit: bounded by max_pending
        self._in_flight: set[asyncio.Future[Any]] = set()  # batches handed to the database
        self._telling: set[asyncio.Task[None]] = set()  # stored batches being told to others
        self._touching: asyncio.Task[None] | None = None  # writing the heartbeats due
        self._latest = latest
        self.versions = latest.versions  # per device: what kept telemetry answers hold to
        self._heard: dict[str, float] = {}  # device -> when it last called
        self._written: dict[str, float] = {}  # device -> when its last touch was queued
        self._due: dict[str, None] = {}  # devices whose last_seen_at is to be moved
        self._sweeper: asyncio.Task[None] | None = None
        self.accepted = self.commit_failures = 0  # readings committed; batches that failed
        self.batch_sizes = Histogram(BATCH_BOUNDS)  # readings per commit
        self.commit_seconds = Histogram(COMMIT_BOUNDS)

    def listen(self, listener: ReadingsListener) -> None:
        """Tell `listener` of every committed batch too (an area built after this one)."""
        self._listeners = (*self._listeners, listener)

    async def ports(self, device_id: str) -> tuple[Device, dict[int, float]]:
        """The charger and its connectors' max power (unknown: the largest there is);
        NotFound for an unregistered one."""
        device = await self._devices.find(device_id)
        if device is None:
            raise NotFound("no charger is registered under this device token")
        held = self._ports.get(device_id)
        if held is not None and held[0] is device.connectors:  # a heartbeat keeps the tuple
            return device, held[1]
        ports = {c.number: c.max_power_kw or MAX_CONNECTOR_KW for c in device.connectors}
        self._ports[device_id] = (device.connectors, ports)
        return device, ports

    async def ingest(self, device_id: str, body: bytes) -> int:
        """Check and store one telemetry body; the number of readings, once committed."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ValidationFailed("the body is not valid JSON") from None
        now = self._clock.now()
        device, ports = await self.ports(device_id)
        told: list[Connector] | None = [] if device.learns_connectors else None
        found = schemas.readings(payload, device_id, ports, now, told)
        if self._pending + len(found) > self._max_pending:
            raise RateLimited("telemetry storage is behind; retry in a second", retry_after=1)
        if told:
            await self._devices.learn(device, told)  # committed before its readings are
        touched = self._heard_from(device_id, now)
        if found:
            try:
                await self._join(found)
            except Exception:  # the batch's commit failed (logged once, by `_stored`)
                raise NotStored("the readings could not be stored; send them again") from None
        if touched is not None:  # its heartbeat was due: stored before the answer too
            await asyncio.shield(touched)
        return len(found)

    def _join(self, readings: list[Reading]) -> asyncio.Future[Any]:
        """Add readings to the batch being gathered: its commit. A new batch is handed to the
        database's group writer at once, built as its transaction runs (`_take`), so the
        readings that come until then go in with it and no task or turn of the loop stands
        between the commit and its requests."""
        batch = self._batch
        if batch is None:
            batch = Batch(asyncio.get_running_loop())
            self._store.append_gathered(partial(self._take, batch), batch.committed)
            self._batch = batch
            self._in_flight.add(batch.committed)
            # Before any request's wake-up: the callbacks run in the order they were added.
            batch.committed.add_done_callback(partial(self._stored, batch))
        batch.readings += readings
        self._pending += len(readings)
        return batch.committed

    def _take(self, batch: Batch) -> list[Reading]:
        """The batch's readings, as its transaction starts; later ones go to the next batch."""
        if self._batch is batch:
            self._batch = None
        batch.started = time.perf_counter()
        return batch.readings

    def _stored(self, batch: Batch, committed: asyncio.Future[object]) -> None:
        """Once the batch's transaction has ended: counted, and on success the latest readings
        and the listeners told, the other instances told (in a task of its own)."""
        self._in_flight.discard(committed)
        readings = batch.readings
        self._pending -= len(readings)
        failed = committed.exception()
        if failed is not None:
            self.commit_failures += 1
            log.error("telemetry_write_failed", readings=len(readings), exc_info=failed)
            return
        self.commit_seconds.observe(time.perf_counter() - batch.started)
        self.batch_sizes.observe(len(readings))
        self.accepted += len(readings)
        self._latest.ingested(readings)
        try:
            for listener in self._listeners:
                listener(readings)
        except Exception:
            log.exception("telemetry_listener_failed", readings=len(readings))
        devices = list(dict.fromkeys(r.device_id for r in readings))
        told = asyncio.get_running_loop().create_task(self._latest.stored(devices))
        self._telling.add(told)
        told.add_done_callback(self._telling.discard)

    @property
    def pending(self) -> int:
        """Readings accepted and waiting for their commit (gathered or being written)."""
        return self._pending

    def heard_from(self, device_id: str, at: float) -> None:
        """The device called at `at`: it counts as a heartbeat (written by a task of its own)."""
        self._heard_from(device_id, at)

    def _heard_from(self, device_id: str, at: float) -> asyncio.Task[None] | None:
        """`heard_from`; the task writing the heartbeats when this one became due."""
        self._heard[device_id] = at
        self.versions.changed(device_id)  # `latest` shows the time heard from
        if at - self._written.get(device_id, -math.inf) < self._touch_every:
            return None
        self._written[device_id] = at
        self._due[device_id] = None
        if self._touching is None:
            self._touching = asyncio.get_running_loop().create_task(self._touch_due())
        return self._touching

    def version(self, operator_id: str, device_id: str) -> tuple[int, int]:
        """What a kept answer over a charger's telemetry holds to: the charger's readings and
        events, and the operator's chargers (which the answer checks it against)."""
        return self.versions.of(device_id), self._devices.versions.of(operator_id)

    def last_heard(self, device_id: str) -> float | None:
        return self._heard.get(device_id)

    async def record_events(self, device_id: str, batch: schemas.EventBatch) -> int:
        now = self._clock.now()
        device, ports = await self.ports(device_id)
        found = schemas.events(batch, device_id, ports, now, device.learns_connectors)
        named = [Connector(e.connector, None, None) for e in found if e.connector is not None]
        await self._devices.learn(device, named)
        await self._store.add_events(found)
        self.heard_from(device_id, now)
        await self._latest.stored([device_id])  # moves its version here and elsewhere
        return len(found)

    async def latest(self, operator_id: str, device_id: str) -> tuple[Device, list[Reading]]:
        """The operator's device and each connector's newest reading, from memory: accepted
        here, or stored by another instance within a second (`latest.py`)."""
        device = await self._devices.get(operator_id, device_id)
        return device, await self._latest.of(device.id, [c.number for c in device.connectors])

    async def events(self, operator_id: str, device_id: str, limit: int) -> list[Event]:
        device = await self._devices.get(operator_id, device_id)
        return await self._store.events(device.id, limit)

    async def readings(
        self,
        operator_id: str,
        device_id: str,
        connector: int | None,
        start: float,
        end: float,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Slice[Reading]:
        """The stored readings of the operator's charger in [start, end), oldest first, one
        connector or (None) all of them; at most `limit`, then `next_cursor`."""
        rollups.check_range(start, end, rollups.RAW_SPAN, "raw readings")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}")
        after = _position(cursor)
        device = await self._devices.get(operator_id, device_id)
        numbers = [c.number for c in device.connectors]
        if connector is not None:
            _check_connector(connector, numbers)
        if not numbers:  # a charger registered without connectors has no readings
            return Slice([], None)
        rows = await self._store.readings(device.id, connector, start, end, after, limit + 1)
        if len(rows) <= limit:
            return Slice([r for _, r in rows], None)
        last_id, last = rows[limit - 1]
        return Slice([r for _, r in rows[:limit]], encode_cursor(f"{last.at!r}/{last_id}"))

    async def series(
        self,
        operator_id: str,
        device_id: str,
        connector: int,
        field: str,
        start: float,
        end: float,
        resolution: str = "1m",
    ) -> list[Bucket]:
        """One field of one connector of the operator's charger downsampled: every bucket of
        `resolution` (1m, 15m, 1h; UTC-aligned) that overlaps [start, end) and holds a value,
        oldest first. Answered from the rollups, so also after the raw readings are gone."""
        rollups.check_field(field)
        length = rollups.bucket_seconds(resolution)
        longest = rollups.RESOLUTIONS[resolution][1]
        rollups.check_range(start, end, longest, f"a {resolution} series may")
        device = await self._devices.get(operator_id, device_id)
        _check_connector(connector, [c.number for c in device.connectors])
        first = math.floor(start / length) * length
        stop = math.ceil(end / length) * length
        return await self._store.buckets(device.id, connector, field, first, stop, length)

    async def sweep(self) -> int:
        """Delete raw readings and rollups past their retention, a chunk per transaction (so
        flushes get their turn in between); how many rows went."""
        now = self._clock.now()
        raw_before, rollups_before = now - self._raw_retention, now - self._rollup_retention
        total = 0
        while True:
            deleted = await self._store.sweep(raw_before, rollups_before, SWEEP_CHUNK)
            total += deleted
            if deleted < SWEEP_CHUNK:
                return total

    async def add_history(self, readings: Sequence[Reading]) -> None:
        """Store readings of the past (a seeded history) in chunks, a transaction each: those
        within the raw retention raw and rolled up, older ones only rolled up (as the sweep
        would leave them). The newest of each connector becomes its latest reading."""
        if not readings:
            return
        kept_from = self._clock.now() - self._raw_retention
        raw = [r for r in readings if r.at >= kept_from]
        old = [r for r in readings if r.at < kept_from]
        for first in range(0, len(old), HISTORY_CHUNK):
            await self._store.add_rollups(old[first : first + HISTORY_CHUNK])
        for first in range(0, len(raw), HISTORY_CHUNK):
            await self._store.append(raw[first : first + HISTORY_CHUNK])
        self._latest.ingested(raw)
        for listener in self._listeners:
            listener(raw)
        await self._latest.stored(list(dict.fromkeys(r.device_id for r in readings)))

    async def flush(self) -> None:
        """Wait until everything accepted so far is written (and the heartbeats due)."""
        while True:
            waiting: set[asyncio.Future[Any]] = {*self._in_flight, *self._telling}
            if self._touching is not None:
                waiting.add(self._touching)
            if not waiting:
                return
            await asyncio.wait(waiting)

    async def _touch_due(self) -> None:
        """The heartbeats due, all at once (one group commit), until none is due."""
        try:
            while self._due:
                due, self._due = self._due, {}
                await asyncio.gather(*(self._touch_one(device_id) for device_id in due))
        finally:
            self._touching = None

    async def _touch_one(self, device_id: str) -> None:
        try:
            await self._devices.touch(device_id, self._heard[device_id])
        except Exception:
            self._written.pop(device_id, None)  # the next call queues it again
            log.exception("device_touch_failed", device_id=device_id)

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_often(), name="voltgate-telemetry-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self._sweeper = None
        await self.flush()

    async def _sweep_often(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            try:
                deleted = await self.sweep()
            except Exception:
                log.exception("telemetry_sweep_failed")
            else:
                if deleted:
                    log.info("telemetry_swept", rows=deleted)


def _check_connector(connector: int, numbers: list[int]) -> None:
    if connector not in numbers:
        has = f"1..{len(numbers)}" if numbers else "none"
        raise ValidationFailed(
            f"connector: this charger has no connector {connector} (it has {has})"
        )


def _position(cursor: str | None) -> tuple[float, int] | None:
    """The (reading time, row id) a raw-range cursor points after."""
    text = decode_cursor(cursor)
    if text is None:
        return None
    at, _, row_id = text.partition("/")
    try:
        return float(at), int(row_id)
    except ValueError:
        raise ValidationFailed("cursor is not one this API returned") from None
