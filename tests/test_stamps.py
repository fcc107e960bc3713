"""Times that only move forward, shared between processes in batches, taken from the message."""

from __future__ import annotations

import asyncio

from voltgate.cache.memory import InProcessCoordinator
from voltgate.changes import Changes
from voltgate.clock import FrozenClock
from voltgate.stamps import Stamps


class _Counter:
    async def bump(self) -> int:
        return 0


async def test_another_process_hears_each_later_time_once_and_never_an_earlier_one() -> None:
    coordinator = InProcessCoordinator(FrozenClock())
    coordinator.shared = True  # standing in for a bus both processes hear
    here = Changes(coordinator, _Counter(), origin="here", batch_interval=0.02)
    there = Changes(coordinator, _Counter(), origin="there", batch_interval=0.02)
    coordinator.on_broadcast(here.receive)
    coordinator.on_broadcast(there.receive)
    heard: list[tuple[str, float]] = []

    async def record(key: str, at: float) -> None:
        heard.append((key, at))

    mine = Stamps("seen", here, record)
    theirs = Stamps("seen", there, record)

    assert await mine.advance("vgc_test_a", 100.0)
    assert not await mine.advance("vgc_test_a", 90.0)  # earlier: nothing to tell
    assert await mine.advance("vgc_test_b", 50.5)
    await asyncio.sleep(0.1)
    assert sorted(heard) == [("vgc_test_a", 100.0), ("vgc_test_b", 50.5)]
    assert theirs.merged("vgc_test_a", 80.0) == 100.0
    assert theirs.merged("vgc_test_a", 120.0) == 120.0  # what is stored may be later still
    assert theirs.merged("vgc_test_c", None) is None

    assert not await theirs.advance("vgc_test_a", 95.0)  # older than what it heard: kept quiet
    await asyncio.sleep(0.1)
    assert mine.get("vgc_test_a") == 100.0 and len(heard) == 2
    await here.stop()
    await there.stop()
