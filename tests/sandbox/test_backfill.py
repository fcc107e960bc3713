"""The sandbox world's first start stores 30 days of history once, through the domains, on
every backend: each charger's records and telemetry, the vehicles' charging history, and an
operator's aggregated energy equal to the sum of its records."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import App
from voltgate.charging.store import ChargingRecord, RecordFilter
from voltgate.sandbox.history import DAYS, HOME, MARGIN
from voltgate.sandbox.world import provision_sandbox
from voltgate.telemetry.store import Reading

ISSUER = "http://127.0.0.1:8000"


async def _records(app: App, which: RecordFilter) -> list[ChargingRecord]:
    found: list[ChargingRecord] = []
    cursor = None
    while True:
        page = await app.rt.fleet.charging.scroll(which, cursor, 100)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            return found


async def _world(app: App, tmp_path: Path, **options: Any) -> dict[str, Any]:
    state = tmp_path / "fleet.json"
    return await provision_sandbox(app.rt, ISSUER, fleet=2, fleet_state=state, **options)


async def _vehicle_history(app: App, user_id: str) -> list[Any]:
    sessions, total = await app.rt.owner.vehicles.history(user_id, None, 0, 500, True)
    assert len(sessions) == total
    return sessions


async def _zones(app: App, operator_id: str) -> dict[str, str]:
    """Each charger's reporting time zone: its site's, or UTC without a site."""
    sites = {s.id: s.timezone for s in (await app.rt.fleet.sites.page(operator_id, 1, 100)).items}
    devices = (await app.rt.fleet.devices.page(operator_id, 1, 100)).items
    return {d.id: sites[d.site_id] if d.site_id else "UTC" for d in devices}


async def test_the_first_start_back_fills_a_month_that_adds_up(app: App, tmp_path: Path) -> None:
    now = app.clock.now()
    world = await _world(app, tmp_path)
    operator, (driver, alex) = world["operator"]["client_id"], world["users"]
    records = await _records(app, RecordFilter(operator_id=operator))

    chargers = world["chargers"]  # two public ones and the driver's home charger
    assert {r.device_id for r in records} == set(chargers)
    assert all(now - DAYS * 86_400 <= r.started_at for r in records)
    assert all(r.stopped_at is not None and r.stopped_at <= now - MARGIN for r in records)
    assert [r.id for r in records] == sorted((r.id for r in records), reverse=True)
    assert [r.started_at for r in records] == sorted((r.started_at for r in records), reverse=True)
    # Aggregated energy, day by day in each charger's zone, is the sum of the records.
    zones = await _zones(app, operator)
    for device_id, zone in zones.items():
        mine = [r for r in records if r.device_id == device_id]
        days = {datetime.fromtimestamp(r.started_at, ZoneInfo(zone)).date() for r in mine}
        for day in days:
            begins = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
            start, end = begins.timestamp(), (begins + timedelta(days=1)).timestamp()
            report = await app.rt.fleet.charging.aggregate(
                operator, "day", start, end, device_id=device_id
            )
            today = [r for r in mine if start <= r.started_at < end]
            assert report.total_sessions == len(today)
            assert report.total_energy_kwh == pytest.approx(math.fsum(r.energy_kwh for r in today))
    whole = await app.rt.fleet.charging.aggregate(operator, "day", now - 31 * 86_400, now)
    assert whole.total_energy_kwh == pytest.approx(math.fsum(r.energy_kwh for r in records))
    # The last day, hour by hour (the request the sandbox prints), has energy at each site.
    for site_id in world["operator"]["site_ids"]:
        day = await app.rt.fleet.charging.aggregate(
            operator, "hour", now - 86_400, now, site_id=site_id
        )
        assert day.total_energy_kwh > 0

    # The home charger's sessions are the driver's Model 3 charging at home, and ev.energy's.
    home = chargers[-1]
    sessions = await _vehicle_history(app, driver["user_id"])
    at_home = sorted((s for s in sessions if s.location_name == HOME), key=lambda s: s.started_at)
    on_charger = sorted((r for r in records if r.device_id == home), key=lambda r: r.started_at)
    assert [(s.started_at, s.ended_at) for s in at_home] == [
        (r.started_at, r.stopped_at) for r in on_charger
    ]
    assert [s.energy_kwh for s in at_home] == pytest.approx([r.energy_kwh for r in on_charger])
    owned, _ = await app.rt.fleet.charging.owned(
        driver["user_id"], before=None, after=None, limit=100
    )
    assert {r.id for r in owned} == {r.id for r in on_charger}
    # Both users' vehicles have a history, newest first, and all of it before now.
    for user in (driver, alex):
        history = await _vehicle_history(app, user["user_id"])
        assert {s.vehicle_id for s in history} == {v["id"] for v in user["vehicles"]}
        assert [s.started_at for s in history] == sorted(
            (s.started_at for s in history), reverse=True
        )
        assert all(s.ended_at is not None and s.ended_at <= now for s in history)
        assert all((s.energy_kwh or 0) > 0 for s in history)
        # Their home energy site's history is its model's since installation: every past day
        # of the month has sun and a house using energy.
        (site,) = await app.rt.owner.energy.of_user(user["user_id"])
        yesterday = datetime.fromtimestamp(now - 86_400, ZoneInfo(site.time_zone)).date()
        energy = await app.rt.owner.energy.calendar_history(
            site, "energy", "month", yesterday.isoformat(), None
        )
        days = energy["time_series"]
        assert len(days) == yesterday.day
        assert all(d["total_home_usage"] > 0 and d["solar_energy_exported"] > 0 for d in days)


async def test_telemetry_rollups_follow_the_sessions_and_raw_readings_the_retention(
    app: App, tmp_path: Path
) -> None:
    now = app.clock.now()
    world = await _world(app, tmp_path)
    operator = world["operator"]["client_id"]
    device = world["chargers"][0]
    records = await _records(app, RecordFilter(operator_id=operator, device_id=device))
    telemetry = app.rt.fleet.telemetry
    start = now - DAYS * 86_400

    power = await telemetry.series(operator, device, 1, "power_kw", start, now, "1h")
    energy = await telemetry.series(operator, device, 1, "energy_kwh", start, now, "1h")
    mine = [r for r in records if r.connector == 1]
    assert mine
    for bucket in (b for b in power if b.max > 0):  # power only while a session ran
        assert any(
            r.started_at < bucket.start + 3600 and bucket.start <= (r.stopped_at or 0) for r in mine
        ), bucket
    most = {b.start: b.max for b in energy}
    for record in mine:  # a session's readings end at its energy
        assert most[int((record.stopped_at or 0) // 3600) * 3600] >= record.energy_kwh
    # Raw readings are kept for the raw retention only (7 days); the rollups for the month.
    kept_from = now - app.rt.settings.telemetry_raw_retention_days * 86_400
    older = await telemetry.readings(operator, device, None, kept_from - 86_400, kept_from)
    assert older.items == []
    assert await telemetry.series(operator, device, 1, "power_kw", start, kept_from, "1h")
    # Within it, the last day's minutes count the raw readings exactly.
    low = math.ceil((now - 86_400) / 60) * 60
    recent: list[Reading] = []
    cursor = None
    while True:
        page = await telemetry.readings(operator, device, 1, low, now, limit=1000, cursor=cursor)
        recent += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    minutes = await telemetry.series(operator, device, 1, "energy_kwh", low, now, "1m")
    assert sum(b.count for b in minutes) == len(recent) > 0
    _, latest = await telemetry.latest(operator, device)
    assert latest and all(r.state == "available" for r in latest)


async def test_a_restart_adds_no_history(app: App, tmp_path: Path) -> None:
    first = await _world(app, tmp_path)
    operator = first["operator"]["client_id"]
    before = await _records(app, RecordFilter(operator_id=operator))
    cars = await _vehicle_history(app, first["users"][0]["user_id"])
    app.clock.advance(3600)

    again = await _world(app, tmp_path)

    assert again["chargers"] == first["chargers"]
    assert await _records(app, RecordFilter(operator_id=operator)) == before
    assert await _vehicle_history(app, first["users"][0]["user_id"]) == cars


async def test_a_world_with_data_of_its_own_gets_no_history_over_it(
    app: App, tmp_path: Path
) -> None:
    """A world made before there was history (or without): only what is new gets a past."""
    first = await _world(app, tmp_path, history_seed=None)
    operator = first["operator"]["client_id"]
    assert await _records(app, RecordFilter(operator_id=operator)) == []
    reported = first["chargers"][0]
    reading = Reading(
        reported, 1, app.clock.now(), app.clock.now(), "available", 0, 0, None, None, None
    )
    await app.rt.fleet.telemetry.add_history([reading])

    again = await _world(app, tmp_path)

    records = await _records(app, RecordFilter(operator_id=operator))
    assert {r.device_id for r in records} == set(first["chargers"]) - {reported}
    for user in again["users"]:  # their vehicles were there before: no past made up for them
        assert await _vehicle_history(app, user["user_id"]) == []
