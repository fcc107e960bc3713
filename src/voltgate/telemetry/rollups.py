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
_FIRST_FIELD = Reading._fields.index(FIELDS[0])  # Reading ends with FIELDS, in that order
assert Reading._fields[_FIRST_FIELD:] == FIELDS
_EMPTY = (0, 0.0, None, None, None, None)


def rollup(readings: Sequence[Reading]) -> list[tuple[Any, ...]]:
    """One row per (device, connector, minute) of the batch, in the column order of
    `telemetry_rollups`: device_id, connector, bucket, then per field count, sum, min, max,
    last, last_at (count 0, sum 0 and NULLs when the field was always null). In key order, so
    batches committing at once lock the rows they share in one order (no deadlock)."""
    groups: dict[tuple[str, int, int], list[Reading]] = {}
    for reading in readings:
        key = (reading.device_id, reading.connector, int(reading.at // MINUTE) * MINUTE)
        group = groups.get(key)
        if group is None:
            groups[key] = [reading]
        else:
            group.append(reading)
    found = []
    for key in sorted(groups):
        group = groups[key]
        row: list[Any] = list(key)
        if len(group) == 1:  # the common case: a charger reports every ~5 s, a flush is 0.25 s
            at = group[0].at
            for value in group[0][_FIRST_FIELD:]:
                row += _EMPTY if value is None else (1, value, value, value, value, at)
        else:  # min/max/sum/max over lists: the loops run in C
            for index in range(_FIRST_FIELD, _FIRST_FIELD + len(FIELDS)):
                points = [(r.at, r[index]) for r in group if r[index] is not None]
                if not points:
                    row += _EMPTY
                    continue
                values: list[float] = [value for _, value in points]  # type: ignore[misc]
                last_at, last = max(points)  # the greatest time; ties: the greater value
                row += (len(values), sum(values), min(values), max(values), last, last_at)
        found.append(tuple(row))
    return found


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
