"""A writer on the scale path (`voltgate telemetry writer`): takes batches of messages from the
telemetry stream's durable pull consumer, writes each batch to the database in one transaction
(`IngestStore.append`: messages stored once each, their signals into the rollups) and
acknowledges the stream's messages only after that commit.

So a writer that dies anywhere loses nothing: what it took and did not acknowledge goes to a
writer again after the consumer's `ack_wait`, and a message that was committed already is
dropped then by the database's dedupe (vin, txid, created_at). Several writers may share the
consumer: each fetch hands a writer messages no other holds. The signals a commit stored for
the first time go to `committed` (the alert rules), as the listener does on the embedded default.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from voltgate.config import Settings
from voltgate.fleettelemetry import protos, readings
from voltgate.fleettelemetry.bus import Bus, MalformedMessage, message_of
from voltgate.fleettelemetry.ingest.store import (
    NO_NUMBERS,
    Committed,
    IngestStore,
    Message,
    Numbers,
)

log = structlog.get_logger("voltgate.fleettelemetry")
SIGNALS = "V"
# How long a fetch waits for messages before the writer looks whether it should stop.
_FETCH_WAIT = 1.0
# After a failed commit the batch is handed back (redelivered after this) and the writer waits
# as long before its next fetch.
_RETRY_AFTER = 1.0
# How often the database is asked for the partitions around today (PostgreSQL).
_PREPARE_EVERY = 3600.0


def decode(msg: Msg) -> tuple[Message, Numbers]:
    """A stream message as the database store takes it: the message and, on topic `V`, its
    numeric signals (the ingest checked the payload before it was published)."""
    message = message_of(msg)
    if message.topic != SIGNALS:
        return message, NO_NUMBERS
    try:
        _vin, _at, numbers = readings.numbers(message.payload)
    except protos.MalformedPayload as exc:
        raise MalformedMessage(str(exc)) from None
    return message, numbers


class Writer:
    def __init__(
        self,
        bus: Bus,
        store: IngestStore,
        batch: int,
        committed: Committed | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self._store = store
        self._batch = batch
        self._committed = committed
        self._clock = clock
        self._prepared = float("-inf")
        self.batches = 0
        self.messages = 0
        self.duplicates = 0  # taken again after a writer died between its commit and its ack
        self.failures = 0

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Writes until `stop` is set (within about a second), the batch in hand finished."""
        subscription = await self._bus.subscribe()
        if ready is not None:
            ready.set()
        try:
            while not stop.is_set():
                batch = await self._fetch(subscription)
                if batch:
                    await self._write(batch)
        finally:
            with contextlib.suppress(Exception):
                await self._bus.nc.flush()  # the last acknowledgements out before leaving
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await subscription.fetch(self._batch, timeout=_FETCH_WAIT)
        except TimeoutError:  # nats-py's is one too: nothing came
            return []
        except nats.errors.Error:  # disconnected, or the server said no: try again shortly
            log.warning("telemetry_fetch_failed", exc_info=True)
            await asyncio.sleep(_RETRY_AFTER)
            return []

    async def _write(self, batch: list[Msg]) -> None:
        now = self._clock()
        if now - self._prepared >= _PREPARE_EVERY:
            try:
                await self._store.prepare(now)
                self._prepared = now
            except Exception:  # rows go to the default partition meanwhile; next batch again
                log.warning("telemetry_partitions_not_prepared", exc_info=True)
        kept: list[Msg] = []
        messages: list[Message] = []
        numbers: list[Numbers] = []
        for msg in batch:
            try:
                message, found = decode(msg)
            except MalformedMessage as exc:  # never written, never redelivered
                log.error("telemetry_message_unreadable", subject=msg.subject, error=str(exc))
                await msg.term()
                continue
            kept.append(msg)
            messages.append(message)
            numbers.append(found)
        if not messages:
            return
        try:
            fresh = await self._store.append(messages, numbers)
        except Exception:
            # Nothing of the batch committed: it goes to a writer again after the delay.
            self.failures += 1
            log.exception("telemetry_batch_not_stored", messages=len(messages))
            for msg in kept:
                await msg.nak(delay=_RETRY_AFTER)
            await asyncio.sleep(_RETRY_AFTER)
            return
        self.batches += 1
        self.messages += len(messages)
        self.duplicates += fresh.count(False)
        for msg in kept:
            await msg.ack()
        if self._committed is not None:
            self._committed([m for m, new in zip(messages, fresh, strict=True) if new])


async def run_writer(
    settings: Settings,
    store: IngestStore,
    stop: asyncio.Event,
    committed: Committed | None = None,
    ready: asyncio.Event | None = None,
) -> Writer:
    """One writer on the settings' stream until `stop` is set (the stream made if it is not
    there yet, so writers may start before listeners); the writer, for its counts."""
    bus = await Bus.connect(settings)
    try:
        await bus.ensure_stream()
        writer = Writer(bus, store, settings.nats_writer_batch, committed)
        log.info("telemetry_writer_started", stream=bus.stream, consumer=bus.consumer)
        await writer.run(stop, ready)
        return writer
    finally:
        await bus.close()
