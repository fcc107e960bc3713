"""Two instances on one database agree on a vehicle's present: it is computed from stored
state and the clock, not ticked by either of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, Backend
from tests.fixtures.instances import another_instance
from tests.vehicles.support import driver


@pytest.fixture
async def second(backend: Backend, app: App) -> AsyncIterator[App]:
    """Another instance on the first one's database."""
    async with another_instance(backend, app) as instance:
        yield instance


async def test_instances_agree_and_a_finished_charge_is_recorded_once(
    app: App, second: App
) -> None:
    me = await driver(app)
    for clock in (app.clock, second.clock):
        clock.advance(2 * 3600)
    headers = await me.headers()
    path = f"/api/1/vehicles/{me.charging.id}/vehicle_data"
    here = (await app.http.get(path, headers=headers)).json()["response"]["charge_state"]
    there = (await second.http.get(path, headers=headers)).json()["response"]["charge_state"]
    assert here == there and here["charging_state"] == "Charging"

    command = f"/api/1/vehicles/{me.charging.vin}/command"
    stop = await second.http.post(f"{command}/charge_stop", headers=headers)
    assert stop.json()["response"]["result"] is True
    start = await app.http.post(f"{command}/charge_start", headers=headers)
    assert start.json()["response"]["result"] is True

    for clock in (app.clock, second.clock):
        clock.advance(6 * 3600)  # the second charge completes while nobody looks
    headers = await me.headers()
    history = "/api/1/dx/charging/history"
    looks = [instance.http.get(history, headers=headers) for instance in (app, second) * 3]
    answers = await asyncio.gather(*looks)
    assert {a.json()["response"]["totalResults"] for a in answers} == {2}
    reasons = [s["stopReason"] for s in answers[0].json()["response"]["data"]]
    assert reasons == ["complete", "stopped"]
