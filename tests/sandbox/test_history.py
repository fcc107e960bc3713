"""The planned past of the sandbox world: believable counts, durations and energy, in each
site's local day, the same for the same seed."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from voltgate.sandbox.history import (
    DAYS,
    MARGIN,
    Charge,
    Charger,
    charge,
    charger_history,
    public_charges,
)

END = datetime(2026, 3, 18, 15, 42, 7, tzinfo=ZoneInfo("UTC")).timestamp()
START = END - DAYS * 86_400
AC = ((1, 22.0), (2, 22.0))
DC = ((1, 150.0), (2, 150.0))


def _charger(zone: str, connectors: tuple[tuple[int, float], ...], dc: bool) -> Charger:
    return Charger(f"dev_{zone.replace('/', '')}{len(connectors)}", "op_1", zone, connectors, dc)


def _month(charger: Charger, seed: int = 7) -> list[tuple[int, Charge]]:
    return public_charges(charger, START, END, random.Random(seed))


def _local_hours(charges: list[tuple[int, Charge]], zone: str) -> Counter[int]:
    where = ZoneInfo(zone)
    return Counter(datetime.fromtimestamp(c.started_at, where).hour for _, c in charges)


def _by_day(hours: Counter[int]) -> int:
    """Sessions that started between 07:00 and 20:00."""
    return sum(n for hour, n in hours.items() if 7 <= hour < 20)


@pytest.mark.parametrize(("connectors", "dc"), [(AC, False), (DC, True)])
def test_a_public_connector_sees_a_few_sessions_a_day_one_at_a_time_within_its_power(
    connectors: tuple[tuple[int, float], ...], dc: bool
) -> None:
    charges = _month(_charger("Europe/London", connectors, dc))

    for number, max_kw in connectors:
        mine = sorted((c for n, c in charges if n == number), key=lambda c: c.started_at)
        assert 1 <= len(mine) / DAYS <= 8, len(mine)
        for before, after in pairwise(mine):
            assert before.stopped_at <= after.started_at  # one vehicle at a time
        for done in mine:
            assert START <= done.started_at < done.stopped_at <= END - MARGIN
            hours = (done.stopped_at - done.started_at) / 3600
            assert 0 < done.energy_kwh <= max_kw * hours * (1 + 1e-9)
            assert hours <= (1.5 if dc else 6.0) + 1e-9  # DC: to its target; AC: until it leaves
            assert 0 < done.start_soc < done.end_soc <= 100
    # One within the last day, whatever the draws: the printed 24-hour report shows energy.
    assert any(c.started_at >= END - 86_400 for _, c in charges)


def test_sessions_start_by_day_in_the_site_s_own_time_zone() -> None:
    west, east = "America/Los_Angeles", "Asia/Tokyo"  # 16-17 hours apart
    for zone, other in ((west, east), (east, west)):
        charges = _month(_charger(zone, (*AC, (3, 22.0)), dc=False))
        own, elsewhere = _local_hours(charges, zone), _local_hours(charges, other)
        total = sum(own.values())
        assert _by_day(own) / total > 0.75, own
        assert sum(own[h] for h in range(0, 5)) / total < 0.05, own
        assert _by_day(elsewhere) / total < 0.5, elsewhere


def test_the_same_seed_plans_the_same_month_and_another_seed_another() -> None:
    charger = _charger("Europe/Berlin", AC, dc=False)

    first = charger_history(charger, _month(charger, 3), random.Random(1))
    again = charger_history(charger, _month(charger, 3), random.Random(1))
    other = charger_history(charger, _month(charger, 4), random.Random(1))

    assert first == again
    assert [r.started_at for r in first[0]] != [r.started_at for r in other[0]]


def test_records_and_readings_agree_on_every_session() -> None:
    charger = _charger("Europe/Berlin", DC, dc=True)
    records, readings = charger_history(charger, _month(charger), random.Random(2))

    assert len({r.id for r in records}) == len(records)
    assert [r.id for r in records] == sorted(r.id for r in records)  # ids in time order
    for record in records:
        assert record.stopped_at is not None and record.meter_stop is not None
        assert record.meter_start is not None
        assert record.meter_stop == pytest.approx(record.meter_start + record.energy_kwh)
        assert record.meter_values[-1]["energy_kwh"] == record.energy_kwh
        during = [
            r
            for r in readings
            if r.connector == record.connector
            and record.started_at < r.at <= record.stopped_at + 1e-3
        ]
        assert during and all(r.state == "charging" for r in during)
        assert during[-1].energy_kwh == record.energy_kwh
        assert max(r.power_kw for r in during) <= 150.0
    # Each connector's register only grows, session after session.
    for number, _ in DC:
        mine = [r for r in records if r.connector == number]
        for before, after in pairwise(mine):
            assert after.meter_start == before.meter_stop


def test_a_charge_tapers_above_80_percent_and_stops_at_its_target_or_when_the_car_leaves() -> None:
    fast = charge(0.0, 150.0, 77.0, 20.0, 95.0, 7200.0)
    assert fast.complete and fast.end_soc == 95.0
    assert fast.energy_kwh == pytest.approx(77.0 * 0.75)
    powers = [p for _, p, _, soc in fast.points]
    assert powers[0] == 150.0 and powers[-1] < 150.0 * 0.3
    left = charge(0.0, 11.0, 77.0, 20.0, 100.0, 3600.0)
    assert not left.complete and left.stopped_at == 3600.0
    assert left.energy_kwh == pytest.approx(11.0)
