"""The Redis coordinator: N server instances sharing one Redis, behind a local revocation view."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from voltgate.cache.port import LockTimeout, RateDecision
from voltgate.clock import Clock

log = structlog.get_logger()

_PRUNE_EVERY = 30.0  # seconds of clock time between prunes of expired revocations
_LOCK_POLL_MIN, _LOCK_POLL_MAX = 0.005, 0.05

# INCR and the first PEXPIRE in one atomic step, so a crash between them never leaves a
# counter without a TTL. A key may come more than once (hits of one batch): each counts.
_HIT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  counts[i] = count
end
return counts
"""
_TAKE = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total
"""
# Never below zero, and a counter taken back to zero goes.
_UNHIT = """
local count = redis.call('DECR', KEYS[1])
if count <= 0 then redis.call('DEL', KEYS[1]) end
return count
"""
_BATCH_MAX = 512  # hits sent in one script call at most

# Delete only our own token: a lock that outlived its TTL may already belong to someone else.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCoordinator:
    shared = True  # its broadcasts reach every instance on the same Redis

    def __init__(self, url: str, namespace: str, clock: Clock) -> None:
        self._clock = clock
        self._prefix = f"voltgate:{namespace}:"
        self._revoked_key = self._prefix + "revoked"
        self._revocations = self._prefix + "revocations"
        self._broadcasts = self._prefix + "broadcast"
        # URL query options win over these defaults (redis-py semantics).
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2.0, health_check_interval=15
        )
        self._pubsub = self._redis.pubsub()
        self._hit_script = self._redis.register_script(_HIT)
        self._take_script = self._redis.register_script(_TAKE)
        self._unhit_script = self._redis.register_script(_UNHIT)
        self._release_script = self._redis.register_script(_RELEASE)
        self._revoked: dict[str, float] = {}
        self._handlers: list[Callable[[str], None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._last_prune = clock.now()
        # Hits wait here while a batch is in flight; each is (counter key, ttl ms, future).
        self._hits: list[tuple[str, int, asyncio.Future[int]]] = []
        self._hitting = False
        self._hit_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Subscribe before loading, so a revocation published in between is not lost.
        await self._pubsub.subscribe(self._revocations, self._broadcasts)
        pending = {self._revocations, self._broadcasts}
        async with asyncio.timeout(5.0):
            while pending:
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "subscribe":
                    pending.discard(message["channel"])
                elif message is not None:
                    self._dispatch(message)
        await self._load_revocations()
        self._listener = asyncio.create_task(self._listen(), name="voltgate-coordinator")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait({self._listener})  # does not swallow a cancellation of close()
            self._listener = None
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def revoke(self, key: str, until: float) -> None:
        self._remember(key, until)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._revoked_key, {key: until}, gt=True)  # never shorten a revocation
            pipe.publish(self._revocations, f"{until!r} {key}")
            if self._maybe_prune():
                pipe.zremrangebyscore(self._revoked_key, "-inf", self._clock.now())
            await pipe.execute()

    def is_revoked(self, key: str) -> bool:
        until = self._revoked.get(key)
        return until is not None and until > self._clock.now()

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        return (await self.hit_many([(key, limit)], window))[0]

    async def hit_many(self, hits: list[tuple[str, int]], window: int) -> list[RateDecision]:
        now = self._clock.now()
        index = int(now // window)
        ends = (index + 1) * window
        # Keep the counter a second past the window end to absorb clock skew between instances.
        ttl_ms = int((ends - now) * 1000) + 1000
        loop = asyncio.get_running_loop()
        waiting = []
        for key, _ in hits:
            future: asyncio.Future[int] = loop.create_future()
            self._hits.append((f"{self._prefix}rate:{index}:{key}", ttl_ms, future))
            waiting.append(future)
        if not self._hitting:
            self._hitting = True
            self._hit_task = loop.create_task(self._send_hits())
        counts = [await future for future in waiting]
        retry = max(1, int(ends - now + 0.999))
        return [
            RateDecision(False, 0, retry)
            if int(count) > limit
            else RateDecision(True, limit - int(count), 0)
            for (_, limit), count in zip(hits, counts, strict=True)
        ]

    async def _send_hits(self) -> None:
        """Count every waiting hit in one script call, then the ones that came meanwhile: under
        load one round trip serves many requests, and each still gets its exact count."""
        try:
            while self._hits:
                batch, self._hits = self._hits[:_BATCH_MAX], self._hits[_BATCH_MAX:]
                try:
                    counts = await self._hit_script(
                        keys=[key for key, _, _ in batch], args=[ttl for _, ttl, _ in batch]
                    )
                except Exception as exc:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:
                    for _, _, future in [*batch, *self._hits]:
                        future.cancel()
                    self._hits = []
                    raise
                for (_, _, future), count in zip(batch, counts, strict=True):
                    if not future.done():
                        future.set_result(int(count))
        finally:
            self._hitting = False

    async def unhit(self, key: str, window: int, *, clear: bool = False) -> None:
        counter = f"{self._prefix}rate:{int(self._clock.now() // window)}:{key}"
        if clear:
            await self._redis.delete(counter)
        else:
            await self._unhit_script(keys=[counter])

    async def take(self, key: str, count: int, window: int) -> int:
        now = self._clock.now()
        index = int(now // window)
        # Kept a second past the window's end to absorb clock skew between instances.
        ttl_ms = int(((index + 1) * window - now) * 1000) + 1000
        total = await self._take_script(
            keys=[f"{self._prefix}take:{index}:{key}"], args=[count, ttl_ms]
        )
        return int(total)

    async def claim_once(self, key: str, ttl: float) -> bool:
        ttl_ms = max(1, int(ttl * 1000))
        return bool(await self._redis.set(f"{self._prefix}once:{key}", "1", px=ttl_ms, nx=True))

    @asynccontextmanager
    async def lock(self, name: str, ttl: float, wait: float) -> AsyncIterator[None]:
        key, token = f"{self._prefix}lock:{name}", secrets.token_hex(16)
        ttl_ms = max(1, int(ttl * 1000))
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + wait, _LOCK_POLL_MIN  # real time: waiting is not clock time
        while not await self._redis.set(key, token, px=ttl_ms, nx=True):
            left = deadline - loop.time()
            if left <= 0:
                raise LockTimeout(name)
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, _LOCK_POLL_MAX)
        try:
            yield
        finally:
            await self._release_script(keys=[key], args=[token])

    async def broadcast(self, message: str) -> None:
        await self._redis.publish(self._broadcasts, message)

    def on_broadcast(self, handler: Callable[[str], None]) -> None:
        self._handlers.append(handler)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "subscribe":
                    if message["channel"] == self._revocations:
                        await self._load_revocations()  # resubscribed after a reconnect: resync
                elif message is not None:
                    self._dispatch(message)
                delay = 0.1
            except Exception:
                # A dead listener would silently stop revocations; redis-py reconnects and
                # resubscribes on the next read, so log, back off and carry on.
                log.exception("coordinator.listener_error")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            self._maybe_prune()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        data: str = message["data"]
        if message["channel"] == self._revocations:
            until, _, key = data.partition(" ")
            try:
                self._remember(key, float(until))
            except ValueError:
                log.warning("coordinator.bad_revocation", payload=data)
            return
        for handler in list(self._handlers):
            try:
                handler(data)
            except Exception:
                log.exception("coordinator.broadcast_handler_failed", handler=repr(handler))

    async def _load_revocations(self) -> None:
        now = self._clock.now()
        members = await self._redis.zrangebyscore(
            self._revoked_key, f"({now!r}", "+inf", withscores=True
        )
        # decode_responses=True with withscores=True yields (str, float) pairs.
        for key, until in cast("list[tuple[str, float]]", members):
            self._remember(key, until)

    def _remember(self, key: str, until: float) -> None:
        self._revoked[key] = max(until, self._revoked.get(key, 0.0))

    def _maybe_prune(self) -> bool:
        """Drop expired local revocations now and then; True when it did (prune Redis too)."""
        now = self._clock.now()
        if now - self._last_prune < _PRUNE_EVERY:
            return False
        self._last_prune = now
        self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        return True
