"""Downsampled telemetry: 1-minute rollups built from a flush's batch, and the query rules.

Per (device, connector, minute) and per field a rollup keeps count, sum, min, max and the last
value with its reading time. Those merge exactly (count and sum add, min/max compare, the last
is the value with the greatest time, ties going to the greater value), so partials from several
instances, from two flushes into one minute or from a late reading merge into the same answer
in any order. 15-minute and 1-hour buckets nest exactly in minutes and are merged at query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voltgate.db.schema import ROLLUP_FIELDS
from voltgate.errors import ValidationFailed
from voltgate.telemetry.store import Reading

MINUTE = 60
HOUR = 3_600
DAY = 86_400
FIELDS = ROLLUP_FIELDS
# Resolution → bucket length (s) and the longest range one query may span.
RESOLUTIONS: dict[str, tuple[int, int]] = {
    "1m": (MINUTE, 7 * DAY),
    "15m": (15 * MINUTE, 31 * DAY),
    "1h": (HOUR, 366 * DAY),
}
RAW_SPAN = DAY  # the longest range of raw readings one query may span
# Where each field's six parts start in a rollup row's values (FIELDS order, as in Reading).
_STARTS = tuple(3 + 6 * i for i in range(len(FIELDS)))  # after the 3 key columns
_EMPTY = (0, 0.0, None, None, None, None)


def rollup(readings: Sequence[Reading]) -> list[tuple[Any, ...]]:
    """One row per (device, connector, minute) of the batch, in the column order of
    `telemetry_rollups`: device_id, connector, bucket, then per field count, sum, min, max,
    last, last_at (count 0, sum 0 and NULLs when the field was always null)."""
    found: dict[tuple[str, int, int], list[Any]] = {}
    get = found.get
    for reading in readings:
        device_id, connector, at, _, _, power, energy, soc, voltage, current = reading
        key = (device_id, connector, int(at // MINUTE) * MINUTE)
        row = get(key)
        if row is None:  # the common case: a charger reports every ~5 s, a flush is 0.25 s
            found[key] = [
                *key,
                *(1, power, power, power, power, at),
                *(1, energy, energy, energy, energy, at),
                *(_EMPTY if soc is None else (1, soc, soc, soc, soc, at)),
                *(_EMPTY if voltage is None else (1, voltage, voltage, voltage, voltage, at)),
                *(_EMPTY if current is None else (1, current, current, current, current, at)),
            ]
            continue
        for start, value in zip(_STARTS, (power, energy, soc, voltage, current), strict=True):
            if value is None:
                continue
            if row[start] == 0:
                row[start : start + 6] = (1, value, value, value, value, at)
                continue
            row[start] += 1
            row[start + 1] += value
            if value < row[start + 2]:
                row[start + 2] = value
            if value > row[start + 3]:
                row[start + 3] = value
            last_at = row[start + 5]
            if at > last_at or (at == last_at and value > row[start + 4]):
                row[start + 4] = value
                row[start + 5] = at
    return [tuple(row) for row in found.values()]  # the driver takes tuples


def check_field(field: str) -> None:
    if field not in FIELDS:
        raise ValidationFailed(f"field: one of {', '.join(FIELDS)}")


def bucket_seconds(resolution: str) -> int:
    known = RESOLUTIONS.get(resolution)
    if known is None:
        raise ValidationFailed(f"resolution: one of {', '.join(RESOLUTIONS)}")
    return known[0]


def check_range(start: float, end: float, longest: int, what: str) -> None:
    """[start, end) must be non-empty and at most `longest` seconds."""
    if end <= start:
        raise ValidationFailed("to must be after from")
    if end - start > longest:
        raise ValidationFailed(f"from/to: {what} span at most {_span(longest)}")


def _span(seconds: int) -> str:
    if seconds % DAY == 0:
        days = seconds // DAY
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{seconds // HOUR} h"
