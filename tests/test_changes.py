"""How processes hear of changed rows: frequent changes (heartbeats) go out in batches."""

from __future__ import annotations

import asyncio

from voltgate.cache.memory import InProcessCoordinator
from voltgate.changes import Changes
from voltgate.clock import FrozenClock


class _Counter:
    """The database's change counter, counted."""

    def __init__(self) -> None:
        self.value = 0

    async def bump(self) -> int:
        self.value += 1
        return self.value


def _bus() -> tuple[InProcessCoordinator, list[str]]:
    coordinator = InProcessCoordinator(FrozenClock())
    coordinator.shared = True  # standing in for a bus other processes hear
    heard: list[str] = []
    coordinator.on_broadcast(heard.append)
    return coordinator, heard


async def test_a_burst_of_changes_goes_out_as_one_broadcast_per_interval() -> None:
    coordinator, heard = _bus()
    changes = Changes(coordinator, _Counter(), origin="a", batch_interval=0.05)
    changes.serving = True
    for n in range(100):
        await changes.publish_soon("device-seen", [f"d{n:03d}@1.0"])
    assert heard == []
    await asyncio.sleep(0.1)
    [message] = heard
    assert message.startswith("rm:a:device-seen:")
    assert message.rpartition(":")[2].split(",") == [f"d{n:03d}@1.0" for n in range(100)]
    await changes.publish_soon("device-seen", ["d000@2.0"])
    await asyncio.sleep(0.1)
    assert heard[1:] == ["rm:a:device-seen:d000@2.0"]


async def test_a_process_that_does_not_serve_bumps_the_counter_once_per_batch() -> None:
    coordinator, heard = _bus()
    counter = _Counter()
    changes = Changes(coordinator, counter, origin="cli", batch_interval=0.05)
    for n in range(10):
        await changes.publish_soon("device-seen", [f"d{n}@1.0"])
    await asyncio.sleep(0.1)
    assert (counter.value, len(heard)) == (1, 1)


async def test_what_is_pending_goes_out_when_stopping_and_later_ones_at_once() -> None:
    coordinator, heard = _bus()
    changes = Changes(coordinator, _Counter(), origin="a", batch_interval=60)
    changes.serving = True
    await changes.publish_soon("device-seen", ["d1@1.0", "d2@1.0"])
    await changes.stop()
    assert heard == ["rm:a:device-seen:d1@1.0,d2@1.0"]
    await changes.publish_soon("device-seen", ["d3@1.0"])  # a last flush during shutdown
    assert heard[1:] == ["rm:a:device-seen:d3@1.0"]


async def test_a_lone_server_tells_nobody() -> None:
    coordinator, heard = _bus()
    coordinator.shared = False  # the in-process coordinator: this process alone hears it
    counter = _Counter()
    changes = Changes(coordinator, counter, origin="a", batch_interval=0.01)
    changes.serving = True
    await changes.publish("site", ["s1"])
    await changes.publish_soon("device-seen", ["d1@1.0"])
    await asyncio.sleep(0.05)
    assert heard == [] and counter.value == 0
