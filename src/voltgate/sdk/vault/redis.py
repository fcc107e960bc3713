"""A Redis store (redis-py's asyncio client; `pip install voltgate-sdk[redis]`): a hash per
grant, and a lock per grant with a fencing token.

The lock is `SET NX PX` with a random owner value, renewed by its holder while held, released
only by its owner (compare and delete), and expires by itself if its holder dies. Each
acquisition takes the next number of a per-grant counter: the fencing token. A write carries
it and a script refuses it if the stored record has a newer one, so a holder whose lock expired
under it (a long pause) cannot overwrite the rotation a newer holder stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from voltgate.sdk.vault.records import GrantKey, Record
from voltgate.sdk.vault.store import LOCK_TIMEOUT, POLL, LockTimeout, StaleFence

LEASE_MS = 30_000  # how long a lock outlives a holder that died holding it

_SAVE = """
local stored = redis.call('HGET', KEYS[1], 'fence')
if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], KEYS[1])
return 1
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_FIELDS = ("profile", "app", "user", "kek_id", "wrapped_key", "sealed", "expires_at",
           "refreshed_at", "failures", "needs_reauth", "fence")  # fmt: skip


class RedisStore:
    def __init__(self, redis: Any, namespace: str = "voltgate-sdk") -> None:
        """`redis`: a `redis.asyncio.Redis` (bytes responses: `decode_responses=False`)."""
        self._redis = redis
        self._ns = namespace
        self._save = redis.register_script(_SAVE)
        self._release = redis.register_script(_RELEASE)
        self._extend = redis.register_script(_EXTEND)

    @classmethod
    def connect(cls, url: str, namespace: str = "voltgate-sdk") -> RedisStore:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), namespace)

    def _name(self, key: GrantKey, what: str) -> str:
        digest = hashlib.sha256(key.context()).hexdigest()[:32]
        return f"{self._ns}:{what}:{digest}"

    async def load(self, key: GrantKey) -> Record | None:
        raw = await self._redis.hgetall(self._name(key, "grant"))
        return _record(raw) if raw else None

    async def save(self, record: Record) -> None:
        k = record.key
        values: list[Any] = [
            k.profile, k.app, k.user, record.kek_id, record.wrapped_key, record.sealed,
            repr(record.expires_at),
            "" if record.refreshed_at is None else repr(record.refreshed_at),
            record.failures, int(record.needs_reauth), record.fence,
        ]  # fmt: skip
        pairs: list[Any] = [x for pair in zip(_FIELDS, values, strict=True) for x in pair]
        stored = await self._save(
            keys=[self._name(k, "grant"), f"{self._ns}:grants"], args=[record.fence, *pairs]
        )
        if not stored:
            raise StaleFence(k.label())

    async def records(self) -> list[Record]:
        names = await self._redis.smembers(f"{self._ns}:grants")
        found = [await self._redis.hgetall(n) for n in names]
        return [_record(raw) for raw in found if raw]

    @asynccontextmanager
    async def lock(self, key: GrantKey, timeout: float = LOCK_TIMEOUT) -> AsyncIterator[int]:
        name, owner = self._name(key, "lock"), secrets.token_hex(16)
        deadline = time.monotonic() + timeout
        while not await self._redis.set(name, owner, nx=True, px=LEASE_MS):
            if time.monotonic() > deadline:
                raise LockTimeout(key.label())
            await asyncio.sleep(POLL)
        # Renewed while held, so a slow token endpoint does not outlast the lease; a holder
        # that stops renewing (dead, paused) loses it, and the fence then refuses its write.
        renewal = asyncio.create_task(self._renew(name, owner))
        try:
            yield int(await self._redis.incr(self._name(key, "fence")))
        finally:
            renewal.cancel()
            await self._release(keys=[name], args=[owner])

    async def _renew(self, name: str, owner: str) -> None:
        while True:
            await asyncio.sleep(LEASE_MS / 3000)
            if not await self._extend(keys=[name], args=[owner, LEASE_MS]):
                return

    async def close(self) -> None:
        await self._redis.aclose()


def _record(raw: dict[bytes, bytes]) -> Record:
    def text(name: str) -> str:
        return raw[name.encode()].decode()

    refreshed = text("refreshed_at")
    return Record(
        GrantKey(text("profile"), text("app"), text("user")), text("kek_id"),
        raw[b"wrapped_key"], raw[b"sealed"], float(text("expires_at")),
        float(refreshed) if refreshed else None, int(text("failures")),
        text("needs_reauth") == "1", int(text("fence")),
    )  # fmt: skip
