"""A batch's rollup partials are those of adding its signals one by one: count, sum, min, max
per (vin, field, minute), and as `last` the value of the latest message (of equal times the
later one in the batch, of a name twice in a message the later one)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from voltgate.fleettelemetry.ingest.rollups import Partial, rollup
from voltgate.fleettelemetry.ingest.store import NO_NUMBERS, Message, Numbers


def _one_by_one(messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[Partial]:
    parts: dict[tuple[str, str, int], list[float]] = {}
    for message, (names, values) in zip(messages, numbers, strict=True):
        at = message.created_at
        for name, value in zip(names, values, strict=True):
            key = (message.vin, name, int(at // 60) * 60)
            number = float(value)
            part = parts.setdefault(key, [0, 0.0, number, number, number, at])
            part[0] += 1
            part[1] += number
            part[2], part[3] = min(part[2], number), max(part[3], number)
            if at >= part[5]:
                part[4], part[5] = number, at
    return [(*key, int(p[0]), p[1], p[2], p[3], p[4], p[5]) for key, p in parts.items()]


def _batch(rng: random.Random) -> tuple[list[Message], list[Numbers]]:
    shapes = [("Soc", "Odometer"), ("Soc",), ("Soc", "Soc", "ChargeAmps"), ()]
    messages, numbers = [], []
    for n in range(rng.randrange(1, 60)):
        at = 1_765_000_000 + rng.choice([0.0, 0.5, 30.0, 59.9, 60.0, 61.0, 125.0])
        vin = rng.choice(["VIN1", "VIN2"])
        names = rng.choice(shapes)
        # Integers, fractions: sums of either are exact, so the order of adding does not show.
        values = tuple(rng.choice([rng.randrange(-50, 100), rng.randrange(400) / 4]) for _ in names)
        messages.append(Message(vin, "V", b"tx%d" % n, at, at, b""))
        numbers.append((names, values) if names else NO_NUMBERS)
    return messages, numbers


@pytest.mark.parametrize("seed", range(200))
def test_a_batch_rolls_up_as_its_signals_one_by_one(seed: int) -> None:
    messages, numbers = _batch(random.Random(seed))
    assert sorted(rollup(messages, numbers)) == sorted(_one_by_one(messages, numbers))


def test_of_equal_times_the_later_message_is_the_last() -> None:
    at = 1_765_000_000.0
    messages = [Message("VIN1", "V", b"a", at, at, b""), Message("VIN1", "V", b"b", at, at, b"")]
    numbers: list[Numbers] = [(("Soc",), (50.0,)), (("Soc",), (51.0,))]
    minute = 1_764_999_960  # 1,765,000,000 s is 40 s into its minute
    assert rollup(messages, numbers) == [("VIN1", "Soc", minute, 2, 101.0, 50.0, 51.0, 51.0, at)]
