"""Charging: the battery rises at amps * volts until the limit, the session closes by itself
(materialised on the next look, by whichever request comes first), and the charging history
shows it with the energy added. Commands report why they could not act."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.conftest import App
from tests.vehicles.support import Driver, driver

POWER_KW = 16 * 230 / 1000  # the seeded Model 3: 16 A at 230 V
CAPACITY = 75.0


def _rate_per_hour() -> float:
    return POWER_KW / CAPACITY * 100


async def _charge(me: Driver) -> dict[str, object]:
    response = await me.data(me.charging)
    assert response.status_code == 200, response.text
    state: dict[str, object] = response.json()["response"]["charge_state"]
    return state


async def _history(me: Driver, **params: object) -> dict[str, object]:
    response = await me.get("/api/1/dx/charging/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()["response"]
    return body


async def test_charging_to_the_limit_closes_a_session_in_the_history(app: App) -> None:
    me = await driver(app)
    started = app.clock.now()
    first = await _charge(me)
    assert first["charging_state"] == "Charging"
    assert first["charger_power"] == round(POWER_KW)
    assert first["charger_actual_current"] == 16 and first["charger_voltage"] == 230
    full_in = (80 - 55) / _rate_per_hour()  # hours
    assert first["minutes_to_full_charge"] == pytest.approx(full_in * 60, abs=1)

    app.clock.advance(3600)
    hour = await _charge(me)
    assert hour["battery_level"] == round(55 + _rate_per_hour())
    assert hour["charge_energy_added"] == pytest.approx(POWER_KW, abs=0.01)
    assert (await _history(me))["data"] == []  # nothing finished yet

    app.clock.advance(full_in * 3600)  # past the limit: nobody looked when it got there
    history = await _history(me)
    assert history["totalResults"] == 1 and history["hasMoreData"] is False
    [session] = history["data"]  # type: ignore[misc]
    energy = (80 - 55) / 100 * CAPACITY
    assert session["vin"] == me.charging.vin
    assert session["siteLocationName"] == "Home"
    assert session["energyAddedKwh"] == pytest.approx(energy, abs=0.001)
    assert session["fees"][0]["usageBase"] == pytest.approx(energy, abs=0.001)
    assert (session["startBatteryLevel"], session["endBatteryLevel"]) == (55, 80)
    assert session["stopReason"] == "complete"
    start = datetime.fromisoformat(session["chargeStartDateTime"]).timestamp()
    stop = datetime.fromisoformat(session["chargeStopDateTime"]).timestamp()
    assert start == pytest.approx(started, abs=1)
    assert stop - start == pytest.approx(energy / POWER_KW * 3600, abs=1)


async def test_concurrent_looks_settle_a_finished_charge_once(app: App) -> None:
    me = await driver(app)
    app.clock.advance(6 * 3600)
    headers = await me.headers()
    paths = [f"/api/1/vehicles/{me.charging.id}"] * 6 + ["/api/1/dx/charging/history"] * 2
    answers = await asyncio.gather(*(app.http.get(p, headers=headers) for p in paths))
    assert all(a.status_code == 200 for a in answers)
    assert (await _history(me))["totalResults"] == 1


async def test_charge_start_at_the_limit_reports_complete(app: App) -> None:
    me = await driver(app)
    stopped = await me.command(me.charging, "charge_stop")
    assert stopped.json() == {"response": {"result": True, "reason": ""}}
    lowered = await me.command(me.charging, "set_charge_limit", {"percent": 50})
    assert lowered.json()["response"]["result"] is True
    refused = await me.command(me.charging, "charge_start")
    assert refused.status_code == 200
    assert refused.json() == {"response": {"result": False, "reason": "complete"}}
    assert (await _charge(me))["charging_state"] == "Stopped"


async def test_charge_start_and_stop_report_why_they_did_nothing(app: App) -> None:
    me = await driver(app)
    again = await me.command(me.charging, "charge_start")
    assert again.json()["response"] == {"result": False, "reason": "is_charging"}
    await me.command(me.charging, "charge_stop")
    idle = await me.command(me.charging, "charge_stop")
    assert idle.json()["response"] == {"result": False, "reason": "not_charging"}
    await me.wake(me.asleep)
    unplugged = await me.command(me.asleep, "charge_start")
    assert unplugged.json()["response"] == {"result": False, "reason": "disconnected"}
    same = await me.command(me.charging, "set_charge_limit", {"percent": 80})
    assert same.json()["response"] == {"result": False, "reason": "already_set"}


async def test_stop_then_start_makes_two_sessions_and_vin_filters_them(app: App) -> None:
    me = await driver(app)
    app.clock.advance(1800)
    await me.command(me.charging, "charge_stop")
    app.clock.advance(600)
    restarted = await me.command(me.charging, "charge_start")
    assert restarted.json()["response"]["result"] is True
    app.clock.advance(1800)
    await me.command(me.charging, "charge_stop")

    history = await _history(me, vin=me.charging.vin)
    assert history["totalResults"] == 2
    newest, oldest = history["data"]  # type: ignore[misc]
    half_hour = POWER_KW / 2
    assert oldest["energyAddedKwh"] == pytest.approx(half_hour, abs=0.001)
    assert newest["energyAddedKwh"] == pytest.approx(half_hour, abs=0.001)
    assert newest["startBatteryLevel"] == oldest["endBatteryLevel"]
    assert newest["stopReason"] == oldest["stopReason"] == "stopped"
    assert (await _charge(me))["charge_energy_added"] == pytest.approx(half_hour, abs=0.01)

    first_page = await _history(me, pageSize=1, sortOrder="ASC")
    assert first_page["hasMoreData"] is True
    assert first_page["data"][0]["sessionId"] == oldest["sessionId"]  # type: ignore[index]
    second = await _history(me, pageSize=1, pageNo=1, sortOrder="ASC")
    assert second["data"][0]["sessionId"] == newest["sessionId"]  # type: ignore[index]
    assert second["hasMoreData"] is False
    assert (await _history(me, vin=me.asleep.vin))["data"] == []


async def test_more_amps_charge_faster(app: App) -> None:
    me = await driver(app)
    changed = await me.command(me.charging, "set_charging_amps", {"charging_amps": 32})
    assert changed.json()["response"]["result"] is True
    app.clock.advance(3600)
    state = await _charge(me)
    assert state["charger_actual_current"] == 32
    assert state["charge_energy_added"] == pytest.approx(32 * 230 / 1000, abs=0.01)


async def test_a_limit_below_the_level_completes_the_charge_now(app: App) -> None:
    me = await driver(app)
    app.clock.advance(3600)
    await me.command(me.charging, "set_charge_limit", {"percent": 50})
    state = await _charge(me)
    assert state["charging_state"] == "Complete"
    history = await _history(me)
    assert history["totalResults"] == 1
    assert history["data"][0]["energyAddedKwh"] == pytest.approx(POWER_KW, abs=0.001)  # type: ignore[index]
    # Raising it again resumes charging, as the car does.
    await me.command(me.charging, "set_charge_limit", {"percent": 90})
    assert (await _charge(me))["charging_state"] == "Charging"


async def test_scheduled_charging_is_kept(app: App) -> None:
    me = await driver(app)
    response = await me.command(
        me.charging, "set_scheduled_charging", {"enable": True, "time": 1380}
    )
    assert response.json()["response"]["result"] is True
    state = await _charge(me)
    assert state["scheduled_charging_mode"] == "StartAt"
    assert state["scheduled_charging_start_time_app"] == 1380
    await me.command(me.charging, "set_scheduled_charging", {"enable": False})
    assert (await _charge(me))["scheduled_charging_mode"] == "Off"
