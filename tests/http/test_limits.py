"""The per-app request count: positions of a window's shared count taken in blocks."""

from __future__ import annotations

import asyncio

import pytest

from voltgate.cache.memory import InProcessCoordinator
from voltgate.clock import FrozenClock
from voltgate.errors import RateLimited
from voltgate.http.limits import ApiRateLimiter
from voltgate.http.request import RawRequest
from voltgate.http.routing import Call


def _call() -> Call[None, None, None]:
    return Call(RawRequest({"type": "http", "headers": []}, _no_receive))


async def _no_receive() -> dict[str, object]:
    raise AssertionError("not read")


async def _allowed(limiter: ApiRateLimiter, requests: int) -> int:
    allowed = 0
    for _ in range(requests):
        try:
            await limiter.count(_call(), "api:client:a", "this app", "RateLimit-")
        except RateLimited:
            continue
        allowed += 1
    return allowed


async def test_a_small_limit_is_counted_exactly_across_instances() -> None:
    clock = FrozenClock(1_800_000_000.0)
    shared = InProcessCoordinator(clock)
    one, two = (ApiRateLimiter(shared, clock, 5, 60) for _ in range(2))
    assert await _allowed(one, 3) == 3
    assert await _allowed(two, 3) == 2  # blocks of 1: no position is held back
    assert await _allowed(one, 1) == 0


@pytest.mark.parametrize("limit", [1_000, 100_000])
async def test_blocks_grow_yet_instances_together_stay_within_the_limit(limit: int) -> None:
    clock = FrozenClock(1_800_000_000.0)
    shared = InProcessCoordinator(clock)
    taken: list[int] = []
    original = shared.take

    async def counted(key: str, count: int, window: int) -> int:
        taken.append(count)
        return await original(key, count, window)

    shared.take = counted  # type: ignore[method-assign]
    one, two = (ApiRateLimiter(shared, clock, limit, 60) for _ in range(2))
    allowed = 0
    for _ in range(limit // 2 + 50):  # the two instances alternate, past the limit
        allowed += await _allowed(one, 1) + await _allowed(two, 1)
    most = max(1, min(1000, limit // 100))
    assert limit - 2 * most <= allowed <= limit  # never over; at most a block each unused
    assert max(taken) == most and len(taken) < limit // 4  # far fewer trips than requests


async def test_concurrent_requests_share_one_take() -> None:
    clock = FrozenClock(1_800_000_000.0)
    shared = InProcessCoordinator(clock)
    trips = 0
    original = shared.take

    async def slow(key: str, count: int, window: int) -> int:
        nonlocal trips
        trips += 1
        await asyncio.sleep(0)
        return await original(key, count, window)

    shared.take = slow  # type: ignore[method-assign]
    limiter = ApiRateLimiter(shared, clock, 10_000, 60)
    calls = [_call() for _ in range(50)]
    await asyncio.gather(*(limiter.count(c, "k", "this app", "RateLimit-") for c in calls))
    remaining = sorted(int(dict(c.headers)[b"ratelimit-remaining"]) for c in calls)
    assert remaining == list(range(10_000 - 50, 10_000))  # each its own position
    assert trips < 50


async def test_leases_of_past_windows_are_dropped_once_many_keys_are_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import voltgate.http.limits as limits

    monkeypatch.setattr(limits, "_KEYS_HELD", 3)
    clock = FrozenClock(1_800_000_000.0)
    limiter = ApiRateLimiter(InProcessCoordinator(clock), clock, 100, 60)
    for key in ("a", "b", "c"):
        await limiter.count(_call(), key, "this app", "RateLimit-")
    clock.advance(60)
    await limiter.count(_call(), "d", "this app", "RateLimit-")
    assert list(limiter._leases) == ["d"]
