"""Aggregated energy: charging records summed per hour, day or month of local time.

A record counts, whole, in the period its `started_at` falls in (a session across midnight
counts on the day it started), so a report's totals equal the sum of the records that
`GET /v1/operator/charging-records` lists for the same site, device and `from`/`to`. Periods are
those of the charger's site time zone (UTC for a charger without a site); a report over chargers
in several zones labels each record in its own zone and merges equal labels.

The database sums energy per 15-minute UTC slot and zone (`EnergySlot`); this module only maps
slots to local periods, so its cost follows the number of periods, not of records.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voltgate.charging.store import SLOT, EnergySlot
from voltgate.errors import ValidationFailed

DAY = 86_400.0
MIXED_ZONES = "local"  # the report's `timezone` when its chargers are in several zones


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


# The longest range a report may cover, per granularity, and how it is named in the error.
MAX_RANGE = {
    Granularity.HOUR: (31 * DAY, "31 days"),
    Granularity.DAY: (366 * DAY, "366 days"),
    Granularity.MONTH: (1827 * DAY, "5 years (1827 days)"),
}


@dataclass(frozen=True, slots=True)
class Bucket:
    period: str  # local label: 2026-03-29T02:00+01:00, 2026-03-29 or 2026-03
    start: float  # Unix seconds when the period began (the earliest zone's, when merged)
    energy_kwh: float
    sessions: int


@dataclass(frozen=True, slots=True)
class EnergyReport:
    granularity: Granularity
    timezone: str  # the zone of every bucket, or MIXED_ZONES
    timezones: tuple[str, ...]
    start: float
    end: float
    buckets: list[Bucket]
    total_energy_kwh: float
    total_sessions: int


def granularity_of(value: str) -> Granularity:
    try:
        return Granularity(value)
    except ValueError:
        raise ValidationFailed("granularity must be hour, day or month") from None


def check_range(granularity: Granularity, start: float, end: float) -> None:
    if start < 0:
        raise ValidationFailed("from must be at or after 1970-01-01T00:00:00Z")
    if end <= start:
        raise ValidationFailed("from must be before to")
    longest, named = MAX_RANGE[granularity]
    if end - start > longest:
        raise ValidationFailed(
            f"the range from..to is too long for granularity={granularity.value}: at most {named}"
        )


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC  # sites validate their zone; one this system no longer knows reads as UTC


def periods(granularity: Granularity, where: tzinfo, start: float, end: float) -> list[Bucket]:
    """The empty buckets of the local periods that overlap [start, end), in order."""
    if granularity is Granularity.HOUR:
        return _hours(where, start, end)
    first = datetime.fromtimestamp(start, where).date()
    out: list[Bucket] = []
    day = first if granularity is Granularity.DAY else first.replace(day=1)
    while True:
        begins = datetime(day.year, day.month, day.day, tzinfo=where).timestamp()
        if begins >= end:
            return out
        label = day.isoformat() if granularity is Granularity.DAY else day.isoformat()[:7]
        out.append(Bucket(label, begins, 0.0, 0))
        if granularity is Granularity.DAY:
            day += timedelta(days=1)
        else:
            day = day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)


def _hours(where: tzinfo, start: float, end: float) -> list[Bucket]:
    # Walk 15-minute UTC slots: a new hour begins where the local label (with its offset, so
    # the repeated hour of a DST change is two buckets) changes.
    out: list[Bucket] = []
    at = math.floor(start / SLOT) * SLOT
    label = ""
    while at < end:
        local = datetime.fromtimestamp(at, where)
        hour = local.replace(minute=0).isoformat(timespec="minutes")
        if hour != label:
            begins = at - local.minute * 60 if not out else at
            out.append(Bucket(hour, begins, 0.0, 0))
            label = hour
        at += SLOT
    return out


def build_report(
    granularity: Granularity,
    zones: list[str],
    start: float,
    end: float,
    slots: list[EnergySlot],
) -> EnergyReport:
    """Map the slots' sums to the local periods of their zones; equal labels merge."""
    names = sorted(set(zones) | {s.timezone for s in slots}) or ["UTC"]
    merged: dict[str, list[float]] = {}  # label -> [start, energy, sessions]
    for name in names:
        own = periods(granularity, zone(name), start, end)
        starts = [b.start for b in own]
        energy = [0.0] * len(own)
        sessions = [0] * len(own)
        for slot in (s for s in slots if s.timezone == name):
            index = max(bisect_right(starts, slot.slot_start) - 1, 0)
            energy[index] += slot.energy_kwh
            sessions[index] += slot.sessions
        for bucket, kwh, count in zip(own, energy, sessions, strict=True):
            entry = merged.setdefault(bucket.period, [bucket.start, 0.0, 0])
            entry[0] = min(entry[0], bucket.start)
            entry[1] += kwh
            entry[2] += count
    buckets = [
        Bucket(label, begins, round(kwh, 6), int(count))
        for label, (begins, kwh, count) in sorted(merged.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]
    return EnergyReport(
        granularity=granularity,
        timezone=names[0] if len(names) == 1 else MIXED_ZONES,
        timezones=tuple(names),
        start=start,
        end=end,
        buckets=buckets,
        total_energy_kwh=round(math.fsum(s.energy_kwh for s in slots), 6),
        total_sessions=sum(s.sessions for s in slots),
    )
