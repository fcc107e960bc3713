"""Publish/subscribe of frames by key, within one process.

A frame is encoded once (JSON text) by whoever publishes it and the same string goes to every
consumer of its key: publishing costs one dict look-up plus one append per consumer of that
key, whatever else is subscribed. Each consumer has a bounded buffer, drained by its own sender
(`pump.pump`); the publisher never waits on a socket. A consumer whose buffer is full when a
frame arrives is ended at once (close 1013, "try again later") and its buffer dropped: one
slow reader costs the others nothing, and memory stays bounded by the buffers.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection
from typing import NamedTuple

# WebSocket close codes (RFC 6455 §7.4.1; 1013 is IANA's "Try Again Later").
NORMAL = 1000
GOING_AWAY = 1001
POLICY = 1008
SLOW = 1013


class Close(NamedTuple):
    """Why a consumer ended: the close code and reason its socket is sent."""

    code: int
    reason: str


class Consumer:
    """One subscriber: the keys it watches, its buffer and how it ended (`closed`)."""

    __slots__ = ("_frames", "_hub", "_limit", "_waiter", "closed", "keys")

    def __init__(self, hub: Hub, keys: tuple[str, ...], limit: int) -> None:
        self.keys = keys
        self._hub = hub
        self._limit = limit
        self._frames: deque[str] = deque()
        self._waiter: asyncio.Future[None] | None = None
        # Resolved once, by whoever ends it: the hub (too slow), the sessions (token revoked or
        # expired), the server (stopping) or the socket's own end.
        self.closed: asyncio.Future[Close] = asyncio.get_running_loop().create_future()

    @property
    def pending(self) -> int:
        """Frames waiting to be sent."""
        return len(self._frames)

    def offer(self, frame: str) -> None:
        """Buffer a frame, or end the consumer if its buffer is full (never waits)."""
        if self.closed.done():
            return
        if len(self._frames) >= self._limit:
            self._hub.slow += 1
            self.end(SLOW, f"too slow: {self._limit} frames were waiting to be sent")
            return
        self._frames.append(frame)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def next(self) -> str | None:
        """The oldest buffered frame, waiting for one; None once the consumer has ended."""
        while not self._frames:
            if self.closed.done():
                return None
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        if self.closed.done():
            return None
        return self._frames.popleft()

    def end(self, code: int, reason: str) -> None:
        """Stop receiving frames and drop those buffered; the first reason given is kept."""
        if self.closed.done():
            return
        self.closed.set_result(Close(code, reason[:120]))  # a close reason is at most 123 bytes
        self._frames.clear()
        self._hub._drop(self)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)


DemandListener = Callable[[bool], None]


class Hub:
    """Consumers by key. `on_demand` listeners hear when the first consumer arrives (True) and
    when the last one leaves (False): a source runs only while someone watches."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a consumer's buffer holds at least one frame")
        self.limit = limit
        self._watchers: dict[str, dict[Consumer, None]] = {}
        self._consumers: dict[Consumer, None] = {}
        self._listeners: list[DemandListener] = []
        self.published = 0  # frames offered to consumers (one per consumer)
        self.slow = 0  # consumers ended for a full buffer

    @property
    def consumers(self) -> int:
        return len(self._consumers)

    def on_demand(self, listener: DemandListener) -> None:
        self._listeners.append(listener)

    def subscribe(self, keys: Collection[str], limit: int | None = None) -> Consumer:
        """A consumer of every frame published under these keys from now on."""
        consumer = Consumer(self, tuple(dict.fromkeys(keys)), limit or self.limit)
        first = not self._consumers
        self._consumers[consumer] = None
        for key in consumer.keys:
            self._watchers.setdefault(key, {})[consumer] = None
        if first:
            for listener in self._listeners:
                listener(True)
        return consumer

    def wants(self, key: str) -> bool:
        """Whether anyone watches `key` (a source skips building frames nobody watches)."""
        return key in self._watchers

    def publish(self, key: str, frame: str) -> int:
        """Offer `frame` to each consumer of `key`; how many it was offered to."""
        watchers = self._watchers.get(key)
        if watchers is None:
            return 0
        # A copy: a consumer found too slow leaves `watchers` while this walks it.
        chosen = tuple(watchers)
        for consumer in chosen:
            consumer.offer(frame)
        self.published += len(chosen)
        return len(chosen)

    def drain(self, code: int = GOING_AWAY, reason: str = "the server is stopping") -> None:
        """End every consumer (the server stops)."""
        for consumer in tuple(self._consumers):
            consumer.end(code, reason)

    def _drop(self, consumer: Consumer) -> None:
        if consumer not in self._consumers:
            return
        del self._consumers[consumer]
        for key in consumer.keys:
            watchers = self._watchers.get(key)
            if watchers is not None:
                watchers.pop(consumer, None)
                if not watchers:
                    del self._watchers[key]
        if not self._consumers:
            for listener in self._listeners:
                listener(False)
