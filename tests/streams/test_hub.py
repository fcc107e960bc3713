"""The hub: a frame reaches exactly the consumers of its key, encoded once; a consumer whose
buffer is full is ended (1013) at once, while the publisher goes on without waiting and every
other consumer gets every frame."""

from __future__ import annotations

import asyncio

import pytest

from voltgate.streams.hub import GOING_AWAY, SLOW, Close, Hub


async def test_a_frame_goes_to_the_consumers_of_its_key_only() -> None:
    hub = Hub(limit=8)
    a = hub.subscribe(["dev-a"])
    both = hub.subscribe(["dev-a", "dev-b"])
    b = hub.subscribe(["dev-b"])
    frame = '{"device_id":"dev-a"}'

    assert hub.publish("dev-a", frame) == 2
    assert hub.publish("dev-nobody", "{}") == 0
    assert (a.pending, both.pending, b.pending) == (1, 1, 0)
    assert await a.next() is frame and await both.next() is frame  # one string, shared
    assert hub.wants("dev-b") and not hub.wants("dev-nobody")


async def test_next_waits_for_a_frame_and_returns_none_once_ended() -> None:
    hub = Hub(limit=8)
    consumer = hub.subscribe(["k"])
    waiting = asyncio.create_task(consumer.next())
    await asyncio.sleep(0)
    assert not waiting.done()
    hub.publish("k", "one")
    assert await asyncio.wait_for(waiting, 1) == "one"

    waiting = asyncio.create_task(consumer.next())
    await asyncio.sleep(0)
    consumer.end(GOING_AWAY, "bye")
    assert await asyncio.wait_for(waiting, 1) is None
    assert consumer.closed.result() == Close(GOING_AWAY, "bye")
    assert hub.consumers == 0 and not hub.wants("k")


async def test_a_full_buffer_ends_that_consumer_and_nobody_else() -> None:
    hub = Hub(limit=4)
    slow = hub.subscribe(["k"])
    fast = hub.subscribe(["k"])
    received: list[str] = []

    for n in range(100):  # the publisher never waits: no await in here
        hub.publish("k", f"frame {n}")
        while fast.pending:
            frame = await fast.next()
            assert frame is not None
            received.append(frame)

    assert received == [f"frame {n}" for n in range(100)]
    assert slow.closed.done()
    code, reason = slow.closed.result()
    assert code == SLOW and "too slow" in reason
    assert slow.pending == 0  # its buffer was dropped with it
    assert hub.slow == 1 and hub.consumers == 1
    assert not fast.closed.done()


async def test_the_source_hears_when_the_first_consumer_comes_and_the_last_goes() -> None:
    hub = Hub(limit=1)
    heard: list[bool] = []
    hub.on_demand(heard.append)
    first = hub.subscribe(["a"])
    second = hub.subscribe(["b"])
    first.end(1000, "")
    assert heard == [True]
    second.end(1000, "")
    first.end(1000, "again")  # ending twice changes nothing
    assert heard == [True, False]
    assert first.closed.result().reason == ""
    hub.subscribe(["a"])
    assert heard == [True, False, True]


async def test_drain_ends_every_consumer_with_going_away() -> None:
    hub = Hub(limit=2)
    consumers = [hub.subscribe([str(n)]) for n in range(3)]
    hub.drain()
    assert [c.closed.result().code for c in consumers] == [GOING_AWAY] * 3
    assert hub.consumers == 0


def test_a_buffer_holds_at_least_one_frame() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Hub(limit=0)
