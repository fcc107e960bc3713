"""One vehicle's socket: frames read, checked, handed to the batcher, acknowledged once stored.

What a frame must be (else the socket is closed with the WebSocket code that says why):
a FlatBuffers envelope (1007 otherwise); a stream message whose sender is the certificate's
VIN (1008); on topic `V`, a protobuf `Payload` of that VIN (1007 / 1008). Over the per-socket
rate a message is dropped without an acknowledgement (the vehicle resends it later). Envelopes
of other message types and unknown topics are acknowledged and not stored, so the vehicle
stops resending them. At most `in_flight` messages wait for their commit; beyond that the
socket is not read (TCP backpressure reaches the vehicle).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, cast

from voltgate.fleettelemetry import envelope, protos, readings
from voltgate.fleettelemetry.ingest.batcher import Batcher, Pending
from voltgate.fleettelemetry.ingest.store import NO_NUMBERS, Message, Numbers

_STORED_TOPICS = frozenset({"V", "alerts", "errors"})
SIGNALS = "V"


class Refused(Exception):
    """The socket is closed with `code` and `reason`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class RateLimit:
    """A token bucket: `messages` per `interval` seconds, as many at once at most."""

    __slots__ = ("_per_second", "_size", "_stamp", "_tokens")

    def __init__(self, messages: int, interval: float) -> None:
        self._size = float(messages)
        self._per_second = messages / interval
        self._tokens = float(messages)
        self._stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._size, self._tokens + (now - self._stamp) * self._per_second)
        self._stamp = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def _sender_matches(stream: envelope.Stream, vin: bytes) -> bool:
    """The stream's device (its `device_id`, or the part of `sender_id` after the device type,
    `vehicle_device.<VIN>`) is the certificate's VIN."""
    if stream.device_id and stream.device_id != vin:
        return False
    if stream.sender_id and stream.sender_id.rpartition(b".")[2] != vin:
        return False
    return bool(stream.device_id or stream.sender_id)


class VehicleSocket:
    """The state of one connection; `frame()` takes each binary frame read from it."""

    def __init__(
        self,
        vin: str,
        batcher: Batcher,
        rate: RateLimit,
        in_flight: int,
        send: Callable[[bytes | str], Any],
        send_acks: Callable[[list[bytes]], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.vin = vin
        self._vin = vin.encode()
        self._batcher = batcher
        self._rate = rate
        self._limit = in_flight
        self.send = send  # a frame to the vehicle: its configuration (text)
        self._send_acks = send_acks  # the acknowledgements waiting, in one write
        self.pushed: str | None = None  # the configuration version sent to it
        self._clock = clock
        self._acks: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._waiting = 0
        self.closed = False
        self.received = 0
        self.dropped = 0  # over the rate
        self.duplicates = 0  # resends of stored messages

    async def room(self) -> None:
        """Returns once fewer than `in_flight` messages wait for their commit."""
        await self._room.wait()

    def frame(self, data: bytes) -> None:
        """One binary frame: stored and acknowledged later, acknowledged now, or dropped."""
        self.received += 1
        if not self._rate.take():
            self.dropped += 1
            return
        try:
            env = envelope.decode(data)
        except envelope.MalformedFrame as exc:
            raise Refused(1007, f"malformed envelope: {exc}") from None
        stream = env.stream
        topic = env.topic.decode("utf-8", "replace")
        if stream is None or topic not in _STORED_TOPICS:
            self._ack(env.txid, env.topic, env.message_id)
            return
        if not _sender_matches(stream, self._vin):
            raise Refused(1008, "the sender is not the vehicle of the certificate")
        now = self._clock()
        numbers: Numbers = NO_NUMBERS
        created_at = float(stream.created_at) or now
        if topic == SIGNALS:
            try:
                vin, created_at, numbers = readings.numbers(stream.payload)
            except protos.MalformedPayload as exc:
                raise Refused(1007, f"malformed payload: {exc}") from None
            if vin != self.vin:
                raise Refused(1008, "the payload's vin is not the vehicle of the certificate")

        message = Message(self.vin, topic, env.txid, created_at, now, stream.payload)
        self._waiting += 1
        if self._waiting >= self._limit:
            self._room.clear()
        ack = (env.txid, env.topic, env.message_id)
        self._batcher.submit(Pending(message, numbers, self._stored, self._lost, ack))

    def _stored(self, pending: Pending, new: bool) -> None:
        self._release()
        if not new:
            self.duplicates += 1
        txid, topic, message_id = cast(tuple[bytes, bytes, bytes], pending.extra)
        self._ack(txid, topic, message_id)

    def _lost(self, _pending: Pending) -> None:
        self._release()  # not acknowledged: the vehicle resends it

    def _release(self) -> None:
        self._waiting -= 1
        if self._waiting < self._limit:
            self._room.set()

    def _ack(self, txid: bytes, topic: bytes, message_id: bytes) -> None:
        if self.closed:
            return
        self._acks.append(envelope.encode_ack(txid=txid, topic=topic, message_id=message_id))
        self._wake.set()

    async def send_acks(self) -> None:
        """The connection's sender: acknowledgements in the order their commits came, those
        waiting handed to `send_acks` together (a commit's for this vehicle, one write)."""
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while self._acks and not self.closed:
                acks = list(self._acks)
                self._acks.clear()
                await self._send_acks(acks)

    @property
    def waiting(self) -> int:
        return self._waiting
