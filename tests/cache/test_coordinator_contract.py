"""One contract for `Coordinator`, run against every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from voltgate.cache.port import Coordinator, LockTimeout, RateDecision
from voltgate.cache.redis import RedisCoordinator
from voltgate.clock import FrozenClock

from .conftest import Backend

POLL_FOR = 2.0  # seconds: the bound for anything that travels through pub/sub or a Redis TTL
POLL_EVERY = 0.01


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail after POLL_FOR seconds of real time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_FOR
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"{what} did not happen within {POLL_FOR} s")
        await asyncio.sleep(POLL_EVERY)


# Revocations


async def test_revoked_key_is_revoked_until_expiry(
    backend: Backend, coordinator: Coordinator
) -> None:
    now = backend.clock.now()
    await coordinator.revoke("tok-1", now + 60)

    assert coordinator.is_revoked("tok-1")
    assert not coordinator.is_revoked("tok-2")
    backend.clock.advance(59.9)
    assert coordinator.is_revoked("tok-1")
    backend.clock.advance(0.1)
    assert not coordinator.is_revoked("tok-1")


async def test_a_shorter_revocation_does_not_shorten_a_longer_one(
    backend: Backend, coordinator: Coordinator
) -> None:
    now = backend.clock.now()
    await coordinator.revoke("tok", now + 600)
    await coordinator.revoke("tok", now + 10)
    backend.clock.advance(300)

    assert coordinator.is_revoked("tok")
    if backend.kind == "redis":
        late = await backend.new()  # the shared set kept the longer one too
        assert late.is_revoked("tok")


async def test_revocation_reaches_another_instance(backend: Backend) -> None:
    backend.skip_single_process()
    first, second = await backend.new(), await backend.new()

    await first.revoke("tok", backend.clock.now() + 60)

    await eventually(lambda: second.is_revoked("tok"), "revocation on the second instance")
    backend.clock.advance(60)
    assert not second.is_revoked("tok")


async def test_instance_started_after_a_revocation_still_sees_it(backend: Backend) -> None:
    backend.skip_single_process()
    first = await backend.new()
    now = backend.clock.now()
    await first.revoke("short", now + 10)
    await first.revoke("long", now + 100)
    backend.clock.advance(50)

    late = await backend.new()

    assert late.is_revoked("long")  # loaded by start(): no waiting
    assert not late.is_revoked("short")


async def test_pruning_forgets_only_expired_revocations(
    backend: Backend, coordinator: Coordinator
) -> None:
    # Pruning runs now and then; it must drop only what has expired.
    now = backend.clock.now()
    await coordinator.revoke("old", now + 1)
    await coordinator.revoke("kept", now + 3600)
    backend.clock.advance(120)
    await coordinator.revoke("new", backend.clock.now() + 60)

    assert not coordinator.is_revoked("old")
    assert coordinator.is_revoked("kept")
    assert coordinator.is_revoked("new")


# Rate limits


async def test_rate_limit_allows_limit_then_refuses_until_the_next_window(
    backend: Backend, coordinator: Coordinator
) -> None:
    decisions = [await coordinator.hit("ip:1", limit=3, window=60) for _ in range(4)]

    assert decisions[:3] == [RateDecision(True, n, 0) for n in (2, 1, 0)]
    # START is 39.5 s before the end of its 60 s window: whole seconds, rounded up.
    assert decisions[3] == RateDecision(False, 0, 40)

    backend.clock.advance(39.4)
    refused = await coordinator.hit("ip:1", limit=3, window=60)
    assert not refused.allowed
    assert refused.retry_after >= 1
    backend.clock.advance(0.1)
    assert await coordinator.hit("ip:1", limit=3, window=60) == RateDecision(True, 2, 0)


async def test_rate_limit_keys_are_independent(coordinator: Coordinator) -> None:
    assert (await coordinator.hit("a", limit=1, window=10)).allowed
    assert not (await coordinator.hit("a", limit=1, window=10)).allowed

    assert await coordinator.hit("b", limit=1, window=10) == RateDecision(True, 0, 0)


async def test_rate_limit_is_shared_across_instances(backend: Backend) -> None:
    backend.skip_single_process()
    first, second = await backend.new(), await backend.new()

    assert (await first.hit("ip", limit=2, window=60)).allowed
    assert (await second.hit("ip", limit=2, window=60)).allowed
    assert not (await first.hit("ip", limit=2, window=60)).allowed


async def test_unhit_takes_back_one_hit_or_clears_them(coordinator: Coordinator) -> None:
    for _ in range(3):
        await coordinator.hit("acct", limit=3, window=60)
    await coordinator.unhit("acct", 60)
    assert await coordinator.hit("acct", limit=3, window=60) == RateDecision(True, 0, 0)
    await coordinator.unhit("acct", 60, clear=True)
    assert await coordinator.hit("acct", limit=3, window=60) == RateDecision(True, 2, 0)
    await coordinator.unhit("never", 60)  # nothing to take back: nothing happens
    assert await coordinator.hit("never", limit=3, window=60) == RateDecision(True, 2, 0)


async def test_take_adds_to_a_windows_count_shared_across_instances(backend: Backend) -> None:
    first = await backend.new()
    assert await first.take("app", 5, window=60) == 5
    assert await first.take("app", 1, window=60) == 6
    assert await first.take("other", 2, window=60) == 2
    if backend.kind == "redis":
        second = await backend.new()
        assert await second.take("app", 10, window=60) == 16
    backend.clock.advance(60)  # the next window starts from nothing
    assert await first.take("app", 1, window=60) == 1


async def test_concurrent_takes_each_get_their_own_total(coordinator: Coordinator) -> None:
    totals = await asyncio.gather(*(coordinator.take("k", 3, window=60) for _ in range(10)))
    assert sorted(totals) == list(range(3, 31, 3))


# Single-use claims


async def test_claim_once_is_true_only_the_first_time(coordinator: Coordinator) -> None:
    assert await coordinator.claim_once("nonce-1", ttl=300)
    assert not await coordinator.claim_once("nonce-1", ttl=300)
    assert await coordinator.claim_once("nonce-2", ttl=300)


async def test_concurrent_claims_have_exactly_one_winner(coordinator: Coordinator) -> None:
    results = await asyncio.gather(*(coordinator.claim_once("code", ttl=300) for _ in range(20)))

    assert results.count(True) == 1


async def test_claim_once_is_shared_across_instances(backend: Backend) -> None:
    backend.skip_single_process()
    first, second = await backend.new(), await backend.new()

    assert await first.claim_once("nonce", ttl=300)
    assert not await second.claim_once("nonce", ttl=300)


async def test_claim_can_be_made_again_after_its_ttl(
    backend: Backend, coordinator: Coordinator
) -> None:
    # memory expires by the clock; Redis by its own PX timer (50 ms real time, within POLL_FOR).
    assert await coordinator.claim_once("nonce", ttl=0.05)
    backend.clock.advance(0.05)
    claimed_again = False

    async def claim() -> None:
        nonlocal claimed_again
        claimed_again = await coordinator.claim_once("nonce", ttl=300)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_FOR
    while not claimed_again and loop.time() < deadline:
        await claim()
        await asyncio.sleep(POLL_EVERY)
    assert claimed_again


# Locks


async def test_lock_makes_a_second_holder_wait(coordinator: Coordinator) -> None:
    events: list[str] = []
    first_inside, let_go = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with coordinator.lock("job", ttl=10, wait=1):
            events.append("first in")
            first_inside.set()
            await let_go.wait()
            events.append("first out")

    async def second() -> None:
        async with coordinator.lock("job", ttl=10, wait=5):
            events.append("second in")

    holder = asyncio.create_task(first())
    await first_inside.wait()
    waiter = asyncio.create_task(second())
    await asyncio.sleep(0.1)  # ample time for the waiter to (wrongly) get in
    assert events == ["first in"]

    let_go.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=POLL_FOR)
    assert events == ["first in", "first out", "second in"]


async def test_lock_times_out_while_held(coordinator: Coordinator) -> None:
    async with coordinator.lock("job", ttl=10, wait=1):
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(LockTimeout):
            async with coordinator.lock("job", ttl=10, wait=0.1):
                pytest.fail("acquired a held lock")
        assert 0.09 <= loop.time() - started < POLL_FOR


async def test_lock_with_no_wait_acquires_a_free_lock(
    backend: Backend, coordinator: Coordinator, request: pytest.FixtureRequest
) -> None:
    async with coordinator.lock("job", ttl=10, wait=0):
        pass


async def test_lock_is_released_when_the_body_raises(coordinator: Coordinator) -> None:
    with pytest.raises(RuntimeError):
        async with coordinator.lock("job", ttl=10, wait=1):
            raise RuntimeError("boom")

    async with coordinator.lock("job", ttl=10, wait=0.5):
        pass


async def test_locks_with_different_names_are_independent(coordinator: Coordinator) -> None:
    async with coordinator.lock("a", ttl=10, wait=1), coordinator.lock("b", ttl=10, wait=0.5):
        pass


async def test_lock_excludes_another_instance(backend: Backend) -> None:
    backend.skip_single_process()
    first, second = await backend.new(), await backend.new()

    async with first.lock("job", ttl=10, wait=1):
        with pytest.raises(LockTimeout):
            async with second.lock("job", ttl=10, wait=0.1):
                pytest.fail("acquired a lock held by another instance")
    async with second.lock("job", ttl=10, wait=1):
        pass


# Broadcasts


async def test_broadcast_reaches_every_instance_including_the_sender(backend: Backend) -> None:
    instances = await backend.peers()
    received: list[list[str]] = [[] for _ in instances]
    for instance, inbox in zip(instances, received, strict=True):
        instance.on_broadcast(inbox.append)

    await instances[0].broadcast("jwks-rotated")

    await eventually(lambda: all(inbox == ["jwks-rotated"] for inbox in received), "delivery")


async def test_every_instance_sees_broadcasts_in_the_same_order(backend: Backend) -> None:
    instances = await backend.peers()
    received: list[list[str]] = [[] for _ in instances]
    for instance, inbox in zip(instances, received, strict=True):
        instance.on_broadcast(inbox.append)

    await asyncio.gather(*(instances[n % len(instances)].broadcast(f"m{n}") for n in range(20)))

    await eventually(lambda: all(len(inbox) == 20 for inbox in received), "delivery")
    assert all(inbox == received[0] for inbox in received)
    assert sorted(received[0]) == sorted(f"m{n}" for n in range(20))


async def test_a_failing_handler_does_not_stop_delivery(
    backend: Backend, coordinator: Coordinator, request: pytest.FixtureRequest
) -> None:
    received: list[str] = []

    def broken(message: str) -> None:
        raise ValueError(message)

    coordinator.on_broadcast(broken)
    coordinator.on_broadcast(received.append)

    await coordinator.broadcast("one")
    await coordinator.broadcast("two")

    await eventually(lambda: received == ["one", "two"], "delivery past a failing handler")


# Lifecycle


async def test_ping_is_true_when_the_store_answers(coordinator: Coordinator) -> None:
    assert await coordinator.ping() is True


async def test_close_is_clean_and_idempotent(backend: Backend) -> None:
    before = asyncio.all_tasks()
    coordinator = await backend.new()

    await coordinator.close()
    await coordinator.close()

    assert asyncio.all_tasks() <= before  # no listener left running


async def test_redis_ping_is_false_when_redis_is_unreachable() -> None:
    # Port 1 on loopback refuses connections; needs no running Redis.
    coordinator = RedisCoordinator("redis://127.0.0.1:1/0", "unreachable", FrozenClock())

    assert await coordinator.ping() is False
    await coordinator.close()


async def test_hit_many_counts_each_key_like_hit(coordinator: Coordinator) -> None:
    first = await coordinator.hit_many([("many:a", 2), ("many:b", 1)], 60)
    assert [d.allowed for d in first] == [True, True]
    assert [d.remaining for d in first] == [1, 0]
    second = await coordinator.hit_many([("many:a", 2), ("many:b", 1)], 60)
    assert [d.allowed for d in second] == [True, False]
    assert second[1].retry_after >= 1
    assert (await coordinator.hit("many:a", 2, 60)).allowed is False


async def test_concurrent_hits_each_get_their_own_exact_count(backend: Backend) -> None:
    """Hits sent together (batched into one round trip on Redis) count one by one: exactly
    `limit` of them are allowed, with every remaining value once, on every instance."""
    instances = await backend.peers()
    limit = 150
    decisions = await asyncio.gather(
        *(instances[n % len(instances)].hit("burst", limit, 60) for n in range(200))
    )
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == limit
    assert sorted(d.remaining for d in allowed) == list(range(limit))
    assert all(d.retry_after >= 1 for d in decisions if not d.allowed)
