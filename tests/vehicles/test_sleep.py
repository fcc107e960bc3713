"""Asleep vehicles answer 408 as the car does, until woken; idle vehicles fall asleep. Time is
a frozen clock the test moves: nothing runs in the background."""

from __future__ import annotations

from tests.conftest import App
from tests.vehicles.support import UNAVAILABLE, driver


async def test_asleep_then_wake_up_then_data(app: App) -> None:
    me = await driver(app)
    listed = await me.get(f"/api/1/vehicles/{me.asleep.vin}")
    assert listed.status_code == 200 and listed.json()["response"]["state"] == "asleep"

    asleep = await me.data(me.asleep)
    assert asleep.status_code == 408
    assert asleep.json()["response"] is None
    assert asleep.json()["error_description"] == UNAVAILABLE
    refused = await me.command(me.asleep, "set_charge_limit", {"percent": 85})
    assert refused.status_code == 408

    woken = await me.post(f"/api/1/vehicles/{me.asleep.id}/wake_up")
    assert woken.status_code == 200
    assert woken.json()["response"]["vin"] == me.asleep.vin
    assert woken.json()["response"]["state"] == "asleep"  # waking takes wake_seconds
    assert (await me.data(me.asleep)).status_code == 408

    app.clock.advance(app.rt.owner.vehicles.policy.wake_seconds)
    data = await me.data(me.asleep)
    assert data.status_code == 200, data.text
    assert data.json()["response"]["state"] == "online"
    assert data.json()["response"]["charge_state"]["battery_level"] == 64
    assert (await me.get(f"/api/1/vehicles/{me.asleep.id}")).json()["response"]["state"] == "online"
    # The refused command changed nothing; now it works.
    assert data.json()["response"]["charge_state"]["charge_limit_soc"] == 90


async def test_a_second_wake_up_while_waking_does_not_delay_it(app: App) -> None:
    me = await driver(app)
    wake_seconds = app.rt.owner.vehicles.policy.wake_seconds
    await me.post(f"/api/1/vehicles/{me.asleep.id}/wake_up")
    app.clock.advance(wake_seconds / 2)
    await me.post(f"/api/1/vehicles/{me.asleep.id}/wake_up")
    app.clock.advance(wake_seconds / 2)
    assert (await me.data(me.asleep)).status_code == 200


async def test_an_idle_vehicle_falls_asleep_and_commands_keep_it_awake(app: App) -> None:
    me = await driver(app)
    await me.wake(me.asleep)
    sleep_after = app.rt.owner.vehicles.policy.sleep_after
    app.clock.advance(sleep_after - 60)
    assert (await me.data(me.asleep)).status_code == 200  # reading does not keep it awake
    changed = await me.command(me.asleep, "set_charge_limit", {"percent": 85})
    assert changed.json()["response"]["result"] is True
    app.clock.advance(sleep_after - 1)
    assert (await me.data(me.asleep)).status_code == 200
    app.clock.advance(1)
    gone = await me.data(me.asleep)
    assert gone.status_code == 408 and gone.json()["error_description"] == UNAVAILABLE
    listed = await me.get("/api/1/vehicles")
    states = {v["vin"]: v["state"] for v in listed.json()["response"]}
    assert states[me.asleep.vin] == "asleep"


async def test_a_charging_vehicle_stays_awake_until_its_charge_completes(app: App) -> None:
    me = await driver(app)
    sleep_after = app.rt.owner.vehicles.policy.sleep_after
    app.clock.advance(3 * 3600)  # still charging (55 % → 80 % takes over 5 h at 3.68 kW)
    assert (await me.data(me.charging)).status_code == 200
    app.clock.advance(3 * 3600)  # complete since about 5.1 h
    assert (await me.data(me.charging)).status_code == 408
    woken = await me.wake(me.charging)
    assert woken["state"] == "asleep"
    data = (await me.data(me.charging)).json()["response"]
    assert data["charge_state"]["charging_state"] == "Complete"
    assert data["charge_state"]["battery_level"] == 80
    app.clock.advance(sleep_after)
    assert (await me.data(me.charging)).status_code == 408
