"""A batch's numeric signals as 1-minute rollup partials, merged into the stored rollups by the
repository in the batch's transaction.

A vehicle's messages mostly carry the same fields, so the batch's messages are grouped by
(vin, minute, field names) and each group summed column by column with the built-ins (count,
sum, min, max in C, not a Python step per signal). A (vin, field, minute) that several groups
hold (a vehicle whose messages differ in fields, a name twice in a message) is merged after.
"""

from __future__ import annotations

from collections.abc import Sequence

from voltgate.fleettelemetry.ingest.store import Message
from voltgate.fleettelemetry.readings import Numbers

# (vin, field, bucket, count, sum, min, max, last, last_at): `last` is the value with the
# greatest time, `last_at` that time.
Partial = tuple[str, str, int, int, float, float, float, float, float]
_Group = tuple[list[float], list[int], list[tuple[float | int, ...]]]  # times, indices, values


def rollup(messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[Partial]:
    """One partial per (vin, field, minute) of the messages' numbers; of equal times the later
    message's value is the last."""
    groups: dict[tuple[str, int, tuple[str, ...]], _Group] = {}
    for index, (message, (names, values)) in enumerate(zip(messages, numbers, strict=True)):
        if not names:
            continue
        at = message.created_at
        key = (message.vin, int(at // 60) * 60, names)
        group = groups.get(key)
        if group is None:
            groups[key] = ([at], [index], [values])
        else:
            group[0].append(at)
            group[1].append(index)
            group[2].append(values)
    partials: list[Partial] = []
    latest: list[tuple[float, int]] = []  # each partial's (last_at, index of its message)
    for (vin, bucket, names), (ats, indices, rows) in groups.items():
        if len(rows) == 1:
            at, values = ats[0], rows[0]
            for name, value in zip(names, values, strict=True):
                number = float(value)
                partials.append((vin, name, bucket, 1, number, number, number, number, at))
            latest += [(at, indices[0])] * len(names)
            continue
        last_at = max(ats)
        last = len(ats) - 1 - ats[::-1].index(last_at)  # the later of equal times
        for name, column, final in zip(names, zip(*rows, strict=True), rows[last], strict=True):
            partials.append(
                (
                    vin,
                    name,
                    bucket,
                    len(column),
                    float(sum(column)),
                    float(min(column)),
                    float(max(column)),
                    float(final),
                    last_at,
                )
            )
        latest += [(last_at, indices[last])] * len(names)
    if len({p[:3] for p in partials}) == len(partials):
        return partials
    return _merged(partials, latest)


def _merged(partials: list[Partial], latest: list[tuple[float, int]]) -> list[Partial]:
    """One partial per (vin, field, bucket) out of several."""
    merged: dict[tuple[str, str, int], tuple[Partial, tuple[float, int]]] = {}
    for partial, when in zip(partials, latest, strict=True):
        key = partial[:3]
        found = merged.get(key)
        if found is None:
            merged[key] = (partial, when)
            continue
        old, old_when = found
        newer = when >= old_when  # equal: the same message, a name twice: the later one
        merged[key] = (
            (
                *key,
                old[3] + partial[3],
                old[4] + partial[4],
                min(old[5], partial[5]),
                max(old[6], partial[6]),
                partial[7] if newer else old[7],
                partial[8] if newer else old[8],
            ),
            when if newer else old_when,
        )
    return [partial for partial, _when in merged.values()]
