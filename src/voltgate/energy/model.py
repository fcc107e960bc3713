"""The home energy model: solar, house load and battery from the time of day, no stored state.

Time is cut into 5-minute steps aligned to the Unix epoch; within a step every power is
constant, so live_status (the step containing `now`) and calendar_history (the sum of steps)
are the same function read two ways. The battery's charge is simulated from local noon of the
day before: a full afternoon of sun or a night at the reserve makes the start forgotten, so a
day computed alone agrees with the same day computed as part of a longer range.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

STEP = 300  # seconds
_HOURS = STEP / 3600
# Off-peak hours in which the autonomous (time-based) mode keeps the battery for the evening.
_OFF_PEAK = (0.0, 6.0)
# Charging from the grid to reach the reserve is slower than the battery's rating.
_GRID_CHARGE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """What the model needs of a site; a change of any of it is a new model."""

    site_id: int
    time_zone: str
    latitude: float
    solar_kw: float
    battery_kwh: float
    battery_kw: float
    backup_reserve_percent: int
    mode: str  # autonomous | self_consumption
    storm_mode: bool


class Flow(NamedTuple):
    """One step's powers (kW, Tesla's signs: battery > 0 discharging, grid > 0 importing) and
    where the energy went (kW over the step)."""

    start: float
    solar: float
    load: float
    battery: float
    grid: float
    soc_start: float  # fractions of the pack at the step's start and end
    soc_end: float
    solar_to_home: float
    solar_to_battery: float
    solar_to_grid: float
    battery_to_home: float
    grid_to_home: float
    grid_to_battery: float


ENERGY_FIELDS = (
    "solar_energy_exported",
    "grid_energy_imported",
    "grid_energy_exported_from_solar",
    "grid_energy_exported_from_battery",
    "battery_energy_exported",
    "battery_energy_imported_from_grid",
    "battery_energy_imported_from_solar",
    "consumer_energy_imported_from_grid",
    "consumer_energy_imported_from_solar",
    "consumer_energy_imported_from_battery",
    "total_home_usage",
)


def totals(
    flows: list[Flow], since: float = float("-inf"), until: float = float("inf")
) -> dict[str, float]:
    """Energy in Wh of `flows` within [since, until); a step cut by either end counts pro rata."""
    sums = dict.fromkeys(ENERGY_FIELDS, 0.0)
    for f in flows:
        part = (min(until, f.start + STEP) - max(since, f.start)) / STEP
        if part <= 0:
            continue
        wh = part * _HOURS * 1000
        sums["solar_energy_exported"] += f.solar * wh
        sums["grid_energy_imported"] += (f.grid_to_home + f.grid_to_battery) * wh
        sums["grid_energy_exported_from_solar"] += f.solar_to_grid * wh
        sums["battery_energy_exported"] += f.battery_to_home * wh
        sums["battery_energy_imported_from_grid"] += f.grid_to_battery * wh
        sums["battery_energy_imported_from_solar"] += f.solar_to_battery * wh
        sums["consumer_energy_imported_from_grid"] += f.grid_to_home * wh
        sums["consumer_energy_imported_from_solar"] += f.solar_to_home * wh
        sums["consumer_energy_imported_from_battery"] += f.battery_to_home * wh
        sums["total_home_usage"] += f.load * wh
    return sums


def local_midnight(day: date, zone: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


V = TypeVar("V")


class _Recent(Generic[V]):
    """Values per (spec, day), the most recently used `most` of them, shared by threads."""

    def __init__(self, most: int, lock: threading.Lock) -> None:
        self._values: OrderedDict[tuple[SiteSpec, date], V] = OrderedDict()
        self._most = most
        self._lock = lock

    def get(self, key: tuple[SiteSpec, date]) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
            return found

    def put(self, key: tuple[SiteSpec, date], value: V) -> V:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._most:
                self._values.popitem(last=False)
        return value


class Model:
    """Days of flows per site spec, computed once and kept (bounded); day totals kept longer.

    Thread-safe: calendar_history computes long ranges on a worker thread.
    """

    def __init__(
        self, max_days: int = 2048, max_totals: int = 65_536, max_running: int = 256
    ) -> None:
        lock = threading.Lock()
        self._days: _Recent[list[Flow]] = _Recent(max_days, lock)
        self._totals: _Recent[dict[str, float]] = _Recent(max_totals, lock)
        self._running: _Recent[list[list[float]]] = _Recent(max_running, lock)

    def at(self, spec: SiteSpec, now: float) -> Flow:
        """The step containing `now`."""
        zone = ZoneInfo(spec.time_zone)
        day = datetime.fromtimestamp(now, zone).date()
        flows = self.day(spec, day)
        start = local_midnight(day, zone)
        return flows[min(len(flows) - 1, int((now - start) // STEP))]

    def day(self, spec: SiteSpec, day: date) -> list[Flow]:
        flows = self._days.get((spec, day))
        return flows if flows is not None else self._days.put((spec, day), _simulate_day(spec, day))

    def day_totals(self, spec: SiteSpec, day: date) -> dict[str, float]:
        """Wh of the whole local day (the site's time zone)."""
        sums = self._totals.get((spec, day))
        return (
            sums if sums is not None else self._totals.put((spec, day), totals(self.day(spec, day)))
        )

    def window_totals(self, spec: SiteSpec, day: date, a: float, b: float) -> dict[str, float]:
        """Wh of the day's steps within [a, b), a step cut by either end pro rata (`totals` of
        them), from running sums kept per day: today's part is asked for on every read."""
        flows = self.day(spec, day)
        running = self._running_sums(spec, day, flows)
        first, n = flows[0].start, len(flows)
        i = min(n, max(0, math.ceil((a - first) / STEP)))  # the first whole step
        j = min(n, max(i, math.floor((b - first) / STEP)))  # whole steps end before j
        cut = [f for f in flows[max(0, i - 1) : i] if f.start + STEP > a]
        cut += [f for f in flows[j : j + 1] if f.start < b]
        sums = totals(cut, a, b)
        for name, column in zip(ENERGY_FIELDS, running, strict=True):
            sums[name] += column[j] - column[i]
        return sums

    def _running_sums(self, spec: SiteSpec, day: date, flows: list[Flow]) -> list[list[float]]:
        """Per field (ENERGY_FIELDS' order), the Wh of the day's first k whole steps at k."""
        found = self._running.get((spec, day))
        if found is not None:
            return found
        wh = _HOURS * 1000
        steps = [
            (
                f.solar,
                f.grid_to_home + f.grid_to_battery,
                f.solar_to_grid,
                0.0,
                f.battery_to_home,
                f.grid_to_battery,
                f.solar_to_battery,
                f.grid_to_home,
                f.solar_to_home,
                f.battery_to_home,
                f.load,
            )
            for f in flows
        ]
        running = [[0.0, *accumulate(step[k] * wh for step in steps)] for k in range(11)]
        return self._running.put((spec, day), running)


def _simulate_day(spec: SiteSpec, day: date) -> list[Flow]:
    zone = ZoneInfo(spec.time_zone)
    start = local_midnight(day, zone)
    end = local_midnight(day + timedelta(days=1), zone)
    t = local_midnight(day - timedelta(days=1), zone) + 12 * 3600
    soc = max(spec.backup_reserve_percent / 100, 0.5)
    clock = _LocalClock(zone)
    flows: list[Flow] = []
    append = flows.append
    while t < end:
        hour, yday = clock.hour(t + STEP / 2)
        flow = _step(spec, t, hour, yday, soc)
        soc = flow.soc_end
        if t >= start:
            append(flow)
        t += STEP
    return flows


class _LocalClock:
    """Local hour and day of year of a Unix time; the zone is asked once per offset change."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._until = float("-inf")
        self._since = float("inf")

    def hour(self, t: float) -> tuple[float, int]:
        if not self._since <= t < self._until:
            local = datetime.fromtimestamp(t, self._zone)
            # Offsets change at most at a local hour boundary: trust this one for the hour.
            self._since = t - (local.minute * 60 + local.second + local.microsecond / 1e6)
            self._until = self._since + 3600
            self._yday = local.timetuple().tm_yday
            self._midnight = t - (local.hour * 3600 + (t - self._since))
        seconds = t - self._midnight
        return seconds / 3600, self._yday


def solar_kw(spec: SiteSpec, hour: float, yday: int) -> float:
    """Clear-sky output: a bell between sunrise and sunset whose length and height follow the
    season (northern or southern by latitude), and a deterministic cloud factor per day."""
    season = math.cos(2 * math.pi * (yday - 172) / 365) * (1 if spec.latitude >= 0 else -1)
    half_day = 6.0 + 2.0 * season
    noon = 13.0
    x = (hour - noon) / half_day
    if abs(x) >= 1:
        return 0.0
    clouds = 0.75 + 0.25 * math.sin(yday * 2.3 + spec.site_id % 97)
    peak = spec.solar_kw * 0.82 * (0.8 + 0.2 * season) * clouds
    return peak * math.cos(x * math.pi / 2) ** 2


def load_kw(hour: float, yday: int) -> float:
    """A household: a base load, a morning and a larger evening peak, some midday use."""
    morning = 1.4 * math.exp(-(((hour - 7.5) / 1.0) ** 2))
    evening = 2.6 * math.exp(-(((hour - 19.0) / 1.6) ** 2))
    midday = 0.4 * math.exp(-(((hour - 13.0) / 2.5) ** 2))
    weekday = 1.0 if yday % 7 < 5 else 1.15
    return (0.45 + morning + evening + midday) * weekday


def _step(spec: SiteSpec, t: float, hour: float, yday: int, soc: float) -> Flow:
    solar = solar_kw(spec, hour, yday)
    load = load_kw(hour, yday)
    capacity = spec.battery_kwh
    rating = spec.battery_kw
    reserve = 1.0 if spec.storm_mode else spec.backup_reserve_percent / 100
    stored = soc * capacity
    room = max(0.0, capacity - stored) / _HOURS  # kW that fills it in one step
    above_reserve = max(0.0, stored - reserve * capacity) / _HOURS

    solar_to_home = min(solar, load)
    spare, short = solar - solar_to_home, load - solar_to_home
    solar_to_battery = min(spare, rating, room)
    solar_to_grid = spare - solar_to_battery
    may_discharge = spec.mode == "self_consumption" or not (_OFF_PEAK[0] <= hour < _OFF_PEAK[1])
    battery_to_home = min(short, rating, above_reserve) if may_discharge else 0.0
    grid_to_home = short - battery_to_home
    grid_to_battery = 0.0
    if stored < reserve * capacity:
        below = (reserve * capacity - stored) / _HOURS
        grid_to_battery = min(below, rating * _GRID_CHARGE_SHARE, rating - solar_to_battery)
        grid_to_battery = max(0.0, grid_to_battery)
    charge = solar_to_battery + grid_to_battery
    stored += (charge - battery_to_home) * _HOURS
    return Flow(
        start=t,
        solar=solar,
        load=load,
        battery=battery_to_home - charge,
        grid=grid_to_home + grid_to_battery - solar_to_grid,
        soc_start=soc,
        soc_end=min(1.0, max(0.0, stored / capacity)),
        solar_to_home=solar_to_home,
        solar_to_battery=solar_to_battery,
        solar_to_grid=solar_to_grid,
        battery_to_home=battery_to_home,
        grid_to_home=grid_to_home,
        grid_to_battery=grid_to_battery,
    )
