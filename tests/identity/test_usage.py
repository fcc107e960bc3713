"""Usage counters: per app and minute, only for apps the process holds, bounded, and a failed
flush loses nothing."""

from __future__ import annotations

from voltgate.clock import FrozenClock
from voltgate.identity import usage as usage_module
from voltgate.identity.usage import Usage, UsageRow


def _usage(clock: FrozenClock, known: set[str]) -> Usage:
    return Usage(clock.now, known.__contains__)


def test_counts_go_to_the_minute_they_happened_in() -> None:
    clock = FrozenClock(1_000_020.0)
    usage = _usage(clock, {"vgc_a"})
    usage.request("vgc_a")
    usage.issued("vgc_a")
    clock.advance(60)
    usage.request("vgc_a")
    usage.answered("vgc_a", 429)
    usage.answered("vgc_a", 404)
    assert sorted(usage.drain(), key=lambda r: r.bucket) == [
        UsageRow("vgc_a", 1_000_020 - 1_000_020 % 60, 1, 1, 0, 0),
        UsageRow("vgc_a", 1_000_080 - 1_000_080 % 60, 1, 0, 1, 1),
    ]
    assert usage.drain() == []


def test_unknown_client_ids_are_not_counted() -> None:
    usage = _usage(FrozenClock(0.0), {"vgc_a"})
    usage.request("made-up")
    usage.failed(None)
    assert usage.drain() == []


def test_the_counters_are_bounded() -> None:
    clock = FrozenClock(0.0)
    names = {f"vgc_{n}" for n in range(usage_module.MAX_KEYS + 5)}
    usage = _usage(clock, names)
    for name in sorted(names):
        usage.request(name)
    assert len(usage.drain()) == usage_module.MAX_KEYS


def test_rows_a_flush_could_not_store_are_counted_again() -> None:
    usage = _usage(FrozenClock(0.0), {"vgc_a"})
    usage.request("vgc_a")
    rows = usage.drain()
    usage.request("vgc_a")
    usage.restore(rows)
    assert usage.drain() == [UsageRow("vgc_a", 0, 2, 0, 0, 0)]
