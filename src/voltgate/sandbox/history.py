"""The sandbox world's past: 30 believable days of charging, planned from a seed.

Pure planning, no I/O (`backfill.py` stores it). Every draw comes from a `random.Random` the
caller seeds, so a seed, an end time and the world's chargers and vehicles give the same
history every time.

- A public charger's connectors see vehicles arrive in each site's local time, mostly by day
  (a car park's morning and evening peaks), fewer at weekends on AC; a vehicle arrives with a
  battery and on-board charger drawn as the live simulator draws them (`simulator.physics`),
  charges along the same curve (full power, tapering above 80 %), and leaves: on AC when its
  driver does, on DC at its target.
- A seeded vehicle charges where its owner lives: the Model 3 at home most evenings (the home
  charger's sessions are these), the Model Y at the office on weekdays; both at a Supercharger
  at some weekends. Its battery level runs down between charges by the day's driving.

A charge is stepped a minute at a time; its readings are those steps, so telemetry rollups,
the charging record's energy and its meter values agree by construction.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from voltgate.charging.store import ChargingRecord
from voltgate.ids import ulid_at
from voltgate.simulator.physics import AC_PHASE_VOLTS, TAPER_FLOOR, TAPER_FROM, Vehicle
from voltgate.telemetry.store import Reading
from voltgate.vehicles.store import ChargingSession
from voltgate.vehicles.store import Vehicle as Car

DAYS = 30
STEP = 60.0  # seconds between two readings of a charge
MARGIN = 300.0  # every charge has ended this long before the history's end
_DAY = 86_400.0
_METER_EVERY = 15  # steps between two meter values of a record
# Vehicles arriving at a public connector per hour of local time, relative: night is quiet,
# a car park peaks in the morning and after work.
_HOURS = (
    0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 1.5, 1.3, 1.2,
    1.3, 1.2, 1.1, 1.2, 1.4, 1.5, 1.3, 1.0, 0.7, 0.5, 0.3, 0.2,
)  # fmt: skip
# Mean sessions a connector sees per day: (weekday, weekend), AC and DC.
_PER_DAY = {False: (3.0, 2.0), True: (5.0, 5.5)}
_SUPERCHARGER_KW = 120.0


@dataclass(frozen=True, slots=True)
class Charge:
    """One session's curve: a point (at, power kW, energy kWh so far, SoC %) per step."""

    started_at: float
    stopped_at: float
    start_soc: float
    end_soc: float
    energy_kwh: float
    complete: bool  # reached its target (else the vehicle left first)
    points: tuple[tuple[float, float, float, float], ...]


def _taper(soc: float) -> float:
    if soc <= TAPER_FROM:
        return 1.0
    return max(TAPER_FLOOR, (100.0 - soc) / (100.0 - TAPER_FROM))


def charge(
    start: float, limit_kw: float, capacity_kwh: float, soc: float, target: float, leave: float
) -> Charge:
    """A vehicle at `soc` % charging at up to `limit_kw` from `start` until it reaches `target`
    % or leaves at `leave`, whichever comes first."""
    at, level, energy = start, soc, 0.0
    points = []
    while at < leave and level < target and limit_kw > 0:
        power = limit_kw * _taper(level)
        step = min(STEP, leave - at, (target - level) / 100 * capacity_kwh / power * 3600)
        added = power * step / 3600
        at += step
        energy += added
        level = min(target, level + added / capacity_kwh * 100)
        points.append((at, power, energy, level))
    return Charge(start, at, soc, level, energy, level >= target, tuple(points))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of arrivals per day."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _local_days(zone: ZoneInfo, start: float, end: float) -> Iterator[date]:
    day = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end, zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _at(day: date, hour: float, zone: ZoneInfo) -> float:
    """Unix seconds of `hour` (fractional) on the local `day`, to the second."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() + round(hour * 3600)


# -- public chargers ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Charger:
    device_id: str
    operator_id: str
    zone: str  # its site's time zone (a home charger: its owner's)
    connectors: tuple[tuple[int, float], ...]  # (number, max kW)
    dc: bool


def public_charges(
    charger: Charger, start: float, end: float, rng: random.Random
) -> list[tuple[int, Charge]]:
    """(connector, charge) of every session in [start, end - MARGIN]; at least one that
    started in the last day, if the charger has a connector."""
    zone = ZoneInfo(charger.zone)
    found: list[tuple[int, Charge]] = []
    if not charger.connectors:
        return found
    for number, max_kw in charger.connectors:
        free_at = start
        for day in _local_days(zone, start, end):
            weekend = day.weekday() >= 5
            count = _poisson(rng, _PER_DAY[charger.dc][weekend])
            hours = rng.choices(range(24), weights=_HOURS, k=count)
            for arrive in sorted(_at(day, h + rng.random(), zone) for h in hours):
                done = _public_visit(charger.dc, max_kw, arrive, rng)
                if done is None or arrive < free_at or done[0].stopped_at > end - MARGIN:
                    continue
                found.append((number, done[0]))
                free_at = done[1] + rng.uniform(120, 900)
    if not any(c.started_at >= end - _DAY for _, c in found):
        found.append(_recent(charger, found, zone, end, rng))
    return found


def _public_visit(
    dc: bool, max_kw: float, arrive: float, rng: random.Random
) -> tuple[Charge, float] | None:
    """A vehicle's charge at a public connector, and when it leaves (None: it arrived full)."""
    car = Vehicle.arriving(rng, dc)
    limit = min(max_kw, car.max_kw)
    if dc:
        done = charge(arrive, limit, car.capacity_kwh, car.soc, rng.uniform(70, 90), arrive + 5400)
        leaves = done.stopped_at + rng.uniform(60, 300)
    else:
        leaves = arrive + rng.triangular(2700, 6 * 3600, 5400)
        done = charge(arrive, limit, car.capacity_kwh, car.soc, 100.0, leaves)
    return (done, leaves) if done.points else None


def _recent(
    charger: Charger,
    found: list[tuple[int, Charge]],
    zone: ZoneInfo,
    end: float,
    rng: random.Random,
) -> tuple[int, Charge]:
    """A session on the first connector within the last day, by day where it fits (the
    aggregated energy of the last 24 hours is what the sandbox prints a request for)."""
    number, max_kw = charger.connectors[0]
    today = datetime.fromtimestamp(end, zone).date()
    noons = [_at(day, 12.0, zone) for day in (today, today - timedelta(days=1))]
    for arrive in [*noons, end - 4 * 3600]:
        if arrive < end - _DAY or arrive + 3 * 3600 + MARGIN > end:
            continue
        taken = [c for n, c in found if n == number and c.stopped_at > arrive - 900]
        if any(c.started_at < arrive + 3 * 3600 for c in taken):
            continue
        car = Vehicle.arriving(rng, charger.dc)
        limit = min(max_kw, car.max_kw)
        return number, charge(arrive, limit, car.capacity_kwh, car.soc, 80.0, arrive + 3 * 3600)
    raise AssertionError("the last four hours of a connector without a session are free")


def charger_history(
    charger: Charger, charges: Sequence[tuple[int, Charge]], rng: random.Random
) -> tuple[list[ChargingRecord], list[Reading]]:
    """The charging records and telemetry readings of these (connector, charge) sessions."""
    records: list[ChargingRecord] = []
    readings: list[Reading] = []
    meters = {number: round(rng.uniform(800, 20_000), 1) for number, _ in charger.connectors}
    tail = charger.device_id[-8:]
    ordered = sorted(charges, key=lambda nc: nc[1].started_at)
    for count, (number, done) in enumerate(ordered, 1):
        meter_start = meters[number]
        meters[number] = round(meter_start + done.energy_kwh, 4)
        records.append(
            ChargingRecord(
                id="chg_" + ulid_at(done.started_at, rng.getrandbits(80)),
                device_id=charger.device_id,
                operator_id=charger.operator_id,
                transaction_id=f"{tail}-{int(done.started_at * 1000):x}-{count}",
                connector=number,
                started_at=round(done.started_at, 3),
                stopped_at=round(done.stopped_at, 3),
                energy_kwh=round(done.energy_kwh, 4),
                meter_start=meter_start,
                meter_stop=meters[number],
                meter_values=tuple(_meter_values(done)),
                created_at=done.started_at,
                updated_at=done.stopped_at,
            )
        )
        readings += _readings(charger, number, done)
    return records, readings


def _meter_values(done: Charge) -> Iterator[dict[str, float]]:
    for index, (at, power, energy, soc) in enumerate(done.points):
        if index % _METER_EVERY == _METER_EVERY - 1 or index == len(done.points) - 1:
            yield {
                "at": round(at, 3),
                "energy_kwh": round(energy, 4),
                "power_kw": round(power, 3),
                "soc": round(soc, 2),
            }


def _readings(charger: Charger, number: int, done: Charge) -> list[Reading]:
    """A reading per step as the simulator reports them, and one when the vehicle has left."""
    device, phases = charger.device_id, 1 if charger.dc else 3
    found = []
    for at, power, energy, soc in done.points:
        volts = 350.0 + soc if charger.dc else AC_PHASE_VOLTS
        found.append(
            Reading(
                device,
                number,
                at,
                at + 0.2,
                "charging",
                round(power, 3),
                round(energy, 4),
                round(soc, 2),
                round(volts, 1),
                round(power * 1000 / (volts * phases), 2),
            )
        )
    after = done.stopped_at + STEP / 2
    found.append(
        Reading(device, number, after, after + 0.2, "available", 0.0, 0.0, None, None, None)
    )
    return found


# -- vehicles -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Visit:
    """Where a vehicle plugs in: when it arrives and leaves, at what power, to what level."""

    place: str
    arrive: float
    leave: float
    limit_kw: float
    target: float


HOME, OFFICE, SUPERCHARGER = "Home", "Office", "Supercharger"


def _visits(car: Car, zone: ZoneInfo, start: float, end: float, rng: random.Random) -> list[Visit]:
    """Candidate visits of a seeded vehicle, in time order (some overlap: the caller skips)."""
    own_kw = car.charging_amps * car.charger_voltage / 1000
    found = []
    for day in _local_days(zone, start, end):
        weekend = day.weekday() >= 5
        if car.seed_slot == 1 and rng.random() < 0.7:  # home most evenings, off in the morning
            arrive = _at(day, rng.triangular(17.0, 22.0, 18.5), zone)
            leave = _at(day + timedelta(days=1), rng.uniform(6.5, 8.5), zone)
            found.append(Visit(HOME, arrive, leave, own_kw, car.charge_limit))
        if car.seed_slot == 2 and not weekend and rng.random() < 0.55:  # the office's wallbox
            arrive = _at(day, rng.uniform(8.0, 10.0), zone)
            leave = _at(day, rng.uniform(16.0, 18.5), zone)
            found.append(Visit(OFFICE, arrive, leave, own_kw, car.charge_limit))
        if weekend and rng.random() < (0.2 if car.seed_slot == 1 else 0.35):
            arrive = _at(day, rng.uniform(10.0, 17.0), zone)
            found.append(Visit(SUPERCHARGER, arrive, arrive + 3600, _SUPERCHARGER_KW, 80.0))
    return sorted(found, key=lambda v: v.arrive)


def vehicle_charges(
    car: Car, zone: str, start: float, end: float, rng: random.Random
) -> list[tuple[str, Charge]]:
    """(place, charge) of a seeded vehicle's sessions in [start, end - MARGIN], oldest first;
    its battery runs down by each day's driving between them. At least one."""
    where = ZoneInfo(zone)
    level, since, free_at = rng.uniform(50.0, 80.0), start, start
    found: list[tuple[str, Charge]] = []
    for visit in _visits(car, where, start, end, rng):
        driven = (visit.arrive - since) / _DAY * rng.uniform(6.0, 14.0)
        if visit.place == SUPERCHARGER:  # on a long drive
            driven += rng.uniform(30.0, 50.0)
        if visit.arrive < free_at:
            continue
        level = max(12.0, level - driven)
        done = charge(
            visit.arrive, visit.limit_kw, car.battery_kwh, level, visit.target, visit.leave
        )
        if done.stopped_at > end - MARGIN:
            break
        since, free_at = visit.arrive, visit.leave + 1800
        if done.points:
            found.append((visit.place, done))
            level = done.end_soc
    if not found:  # a quiet month: one top-up at a Supercharger the day before
        arrive = end - _DAY
        found.append(
            (SUPERCHARGER, charge(arrive, _SUPERCHARGER_KW, car.battery_kwh, 30, 80, arrive + 3600))
        )
    return found


def vehicle_sessions(car: Car, charges: Sequence[tuple[str, Charge]]) -> list[ChargingSession]:
    """The vehicle's charging history (ids are the database's)."""
    return [
        ChargingSession(
            id=0,
            vehicle_id=car.id,
            user_id=car.user_id,
            vin=car.vin,
            location_name=place,
            started_at=round(done.started_at, 3),
            ended_at=round(done.stopped_at, 3),
            start_level=round(done.start_soc, 2),
            end_level=round(done.end_soc, 2),
            energy_kwh=round(done.energy_kwh, 4),
            stop_reason="complete" if done.complete else "stopped",
        )
        for place, done in charges
    ]
