"""The model read two ways agrees: calendar_history's totals are the integral of live_status."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import App
from tests.energy.driver import driver
from voltgate.energy.model import Model, SiteSpec, totals

STEP = 300
BERLIN = ZoneInfo("Europe/Berlin")


def _to(app: App, when: datetime) -> None:
    app.clock.advance(when.timestamp() - app.clock.now())


async def test_a_days_history_is_the_integral_of_its_live_status(app: App) -> None:
    d = await driver(app)
    midnight = datetime(2027, 5, 3, tzinfo=BERLIN)
    _to(app, midnight)
    token = await d.token()
    wh = dict.fromkeys(("solar", "load", "discharge", "charge", "grid"), 0.0)
    first = last = None
    for step in range(24 * 3600 // STEP):
        app.clock.advance(STEP if step else 0)
        live = (await d.get(f"{d.site}/live_status", token)).json()["response"]
        first = first or live
        last = live
        assert (
            abs(
                live["solar_power"]
                + live["battery_power"]
                + live["grid_power"]
                - live["load_power"]
            )
            < 0.5
        )  # power balances at every instant
        hours = STEP / 3600
        wh["solar"] += live["solar_power"] * hours
        wh["load"] += live["load_power"] * hours
        wh["discharge"] += max(0.0, live["battery_power"]) * hours
        wh["charge"] += max(0.0, -live["battery_power"]) * hours
        wh["grid"] += live["grid_power"] * hours
    assert first is not None and last is not None
    assert wh["solar"] > 5_000 and wh["load"] > 5_000  # a real day of sun and use

    _to(app, datetime(2027, 5, 4, 9, tzinfo=BERLIN))
    history = await d.get(
        f"{d.site}/calendar_history",
        await d.token(),
        kind="energy",
        period="day",
        end_date="2027-05-03T23:59:59+02:00",
    )
    assert history.status_code == 200, history.text
    (day,) = history.json()["response"]["time_series"]
    assert day["timestamp"] == "2027-05-03T00:00:00+02:00"
    tolerance = 24 * 3600 / STEP * 0.05 * STEP / 3600 + 0.01  # live values are rounded to 0.1 W
    assert abs(day["solar_energy_exported"] - wh["solar"]) <= tolerance
    assert abs(day["total_home_usage"] - wh["load"]) <= tolerance
    assert abs(day["battery_energy_exported"] - wh["discharge"]) <= tolerance
    charged = day["battery_energy_imported_from_solar"] + day["battery_energy_imported_from_grid"]
    assert abs(charged - wh["charge"]) <= tolerance
    net_grid = day["grid_energy_imported"] - day["grid_energy_exported_from_solar"]
    assert abs(net_grid - wh["grid"]) <= tolerance
    # The battery's charge moves by what went in and out (the last sample is 5 min before 24:00).
    moved = last["energy_left"] - first["energy_left"]
    assert abs(moved - (wh["charge"] - wh["discharge"])) <= 400  # one step's flow at most


async def test_longer_periods_sum_the_same_days(app: App) -> None:
    d = await driver(app)
    _to(app, datetime(2027, 5, 20, 12, tzinfo=BERLIN))
    token = await d.token()
    site = f"{d.site}/calendar_history"
    month = (await d.get(site, token, period="month", end_date="2027-05-10T12:00:00+02:00")).json()
    days = month["response"]["time_series"]
    assert len(days) == 10 and days[0]["timestamp"] == "2027-05-01T00:00:00+02:00"
    week = (await d.get(site, token, period="week", end_date="2027-05-10T12:00:00+02:00")).json()
    assert week["response"]["time_series"] == days[3:]
    one = (await d.get(site, token, period="day", end_date="2027-05-07T08:00:00+02:00")).json()
    assert one["response"]["time_series"] == [days[6]]
    year = (await d.get(site, token, period="year")).json()["response"]["time_series"]
    assert [e["timestamp"][:7] for e in year] == [f"2027-{m:02d}" for m in range(1, 6)]
    may = year[-1]
    assert may["solar_energy_exported"] > 0
    today = (await d.get(site, token, period="month")).json()["response"]["time_series"]
    assert abs(sum(e["solar_energy_exported"] for e in today) - may["solar_energy_exported"]) < 1
    backup = (await d.get(site, token, kind="backup")).json()["response"]
    assert backup["events"] == [] and backup["total_events"] == 0


def test_a_part_of_a_day_read_from_running_sums_equals_the_sum_of_its_steps() -> None:
    model = Model()
    spec = SiteSpec(1, "Europe/Berlin", 52.5, 8.0, 13.5, 5.0, 20, "self_consumption", False)
    for day in (date(2027, 3, 28), date(2027, 5, 3), date(2027, 10, 31)):  # 23, 24, 25 hours
        flows = model.day(spec, day)
        midnight = datetime(day.year, day.month, day.day, tzinfo=BERLIN).timestamp()
        end = flows[-1].start + STEP
        for a, b in [
            (midnight, end),
            (midnight, midnight + 9 * 3600 + 17),  # today, up to now
            (midnight + 3 * STEP, midnight + 40 * STEP),  # whole steps only
            (midnight + 100.5, midnight + 250.25),  # within one step
            (midnight + 7 * 3600 + 1, end - 1),  # installed that morning
            (midnight - 900, end + 900),
        ]:
            steps = totals([f for f in flows if a - STEP < f.start < b], a, b)
            read = model.window_totals(spec, day, a, b)
            assert read == pytest.approx(steps, abs=1e-6), (day, a - midnight, b - midnight)
            assert read["solar_energy_exported"] >= 0
