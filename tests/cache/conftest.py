"""Fixtures running the coordinator contract against every backend (memory, redis)."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from voltgate.cache.memory import InProcessCoordinator
from voltgate.cache.port import Coordinator
from voltgate.cache.redis import RedisCoordinator
from voltgate.clock import FrozenClock

REDIS_URL = os.environ.get("VOLTGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START = 1_700_000_000.5  # mid-second, so retry_after rounding is exercised


@functools.cache
def _redis_unreachable() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError as exc:
        return f"Redis at {REDIS_URL} is unreachable ({exc})"
    finally:
        client.close()
    return None


def require_redis() -> None:
    reason = _redis_unreachable()
    if reason is None:
        return
    if os.environ.get("VOLTGATE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}; VOLTGATE_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)


class Backend:
    """Makes started coordinators of one kind sharing one clock and one namespace."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.clock = FrozenClock(START)
        self.namespace = f"test-{secrets.token_hex(8)}"
        self.made: list[Coordinator] = []

    async def new(self) -> Coordinator:
        coordinator: Coordinator
        if self.kind == "memory":
            coordinator = InProcessCoordinator(self.clock)
        else:
            coordinator = RedisCoordinator(REDIS_URL, self.namespace, self.clock)
        await coordinator.start()
        self.made.append(coordinator)
        return coordinator

    async def peers(self) -> list[Coordinator]:
        """Two instances sharing the namespace; memory serves one process, so just one."""
        return [await self.new() for _ in range(1 if self.kind == "memory" else 2)]

    def skip_single_process(self) -> None:
        if self.kind == "memory":
            pytest.skip("single process")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "redis":
        require_redis()
    backend = Backend(request.param)
    yield backend
    for coordinator in backend.made:
        await coordinator.close()
    if backend.kind == "redis":
        # The revocation sorted set has no TTL: leave nothing behind in the shared Redis.
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(f"voltgate:{backend.namespace}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture
async def coordinator(backend: Backend) -> Coordinator:
    return await backend.new()
