"""calendar_history: energy totals per day or month, summed from the model's steps.

`kind=energy` sums the same steps live_status reads, over local days (or months) of the
requested time zone; the future and the time before installation count nothing.
`kind=backup` lists grid outages: the simulated grid never fails, so the list is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voltgate.energy.model import ENERGY_FIELDS, Model, SiteSpec, local_midnight
from voltgate.errors import InvalidRequest

KINDS = ("energy", "backup")
PERIODS = ("day", "week", "month", "year")
_EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class Query:
    kind: str
    period: str
    end: date  # the local day the period ends with
    zone: ZoneInfo


def parse_query(
    kind: str | None,
    period: str | None,
    end_date: str | None,
    time_zone: str | None,
    site_zone: str,
    now: float,
) -> Query:
    """The query's parameters checked; anything wrong is a 400 naming the parameter."""
    kind = kind or "energy"
    if kind not in KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}")
    period = period or "day"
    if period not in PERIODS:
        raise InvalidRequest(f"period must be one of {', '.join(PERIODS)}")
    try:
        zone = ZoneInfo(time_zone or site_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest("time_zone must be an IANA time zone, e.g. Europe/Berlin") from None
    if end_date is None:
        end = datetime.fromtimestamp(now, zone).date()
    else:
        try:
            parsed = datetime.fromisoformat(end_date.strip())
            local = parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)
        except (ValueError, OverflowError):  # the first or last day of the calendar, shifted
            raise InvalidRequest(
                "end_date must be an RFC 3339 time, e.g. 2026-11-21T23:59:59+01:00"
            ) from None
        end = local.date()
    today = datetime.fromtimestamp(now, zone).date()
    if not _EARLIEST <= end <= today + timedelta(days=1):
        raise InvalidRequest(f"end_date must lie between {_EARLIEST} and tomorrow")
    return Query(kind, period, end, zone)


class History:
    def __init__(self, model: Model) -> None:
        self._model = model

    def series(self, spec: SiteSpec, query: Query, installed: float, now: float) -> list[Any]:
        """The time_series entries: one per day (day, week, month) or per month (year)."""
        entries = []
        for start, end in _buckets(query):
            a = local_midnight(start, query.zone)
            b = local_midnight(end, query.zone)
            if a > now:
                break
            sums = self.range_totals(spec, max(a, installed), b, now)
            entry: dict[str, Any] = {"timestamp": _iso(a, query.zone)}
            entry.update({name: round(sums[name], 3) for name in ENERGY_FIELDS})
            entries.append(entry)
        return entries

    def range_totals(self, spec: SiteSpec, a: float, b: float, now: float) -> dict[str, float]:
        """Wh of the steps in [a, b), up to `now` (the current step pro rata)."""
        b = min(b, now)
        if b <= a:
            return dict.fromkeys(ENERGY_FIELDS, 0.0)
        site_zone = ZoneInfo(spec.time_zone)
        first = datetime.fromtimestamp(a, site_zone).date()
        last = datetime.fromtimestamp(b - 1, site_zone).date()
        sums = dict.fromkeys(ENERGY_FIELDS, 0.0)
        day = first
        while day <= last:
            following = day + timedelta(days=1)
            if a <= local_midnight(day, site_zone) and local_midnight(following, site_zone) <= b:
                part = self._model.day_totals(spec, day)
            else:
                part = self._model.window_totals(spec, day, a, b)
            for name in ENERGY_FIELDS:
                sums[name] += part[name]
            day = following
        return sums


def _buckets(query: Query) -> list[tuple[date, date]]:
    end = query.end
    if query.period == "day":
        return [(end, end + timedelta(days=1))]
    if query.period == "week":
        return [(end - timedelta(days=i), end - timedelta(days=i - 1)) for i in range(6, -1, -1)]
    if query.period == "month":
        first = end.replace(day=1)
        return [
            (first + timedelta(days=i), first + timedelta(days=i + 1))
            for i in range((end - first).days + 1)
        ]
    months = []
    for month in range(1, end.month + 1):
        start = date(end.year, month, 1)
        following = date(end.year + (month == 12), month % 12 + 1, 1)
        months.append((start, following))
    return months


def _iso(at: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(int(at), zone).isoformat()
