"""Another process on the same database (another instance, or the simulated vehicles beside a
server on the embedded default, where no broadcast reaches) sees a vehicle's keys change within
a second: pairing on one instance, removal on disconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, Backend
from tests.fixtures.instances import another_instance, seen_within
from voltgate.identity.appkeys import generate
from voltgate.vehicles.seed import seed_vehicles


@pytest.fixture
async def other(backend: Backend, app: App) -> AsyncIterator[App]:
    async with another_instance(backend, app) as instance:
        yield instance


async def test_a_pairing_and_its_removal_reach_the_other_process(app: App, other: App) -> None:
    user = await app.rt.identity.users.create("ada@example.com", "correct horse battery")
    vehicle, *_ = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user.id)
    there = other.rt.owner.keys
    heard: list[frozenset[str]] = []
    there.listen(heard.append)
    before = await there.version(vehicle.vin)
    key = generate().point
    await app.rt.owner.keys.pair(user.id, "vgc_test_app", key, [vehicle.vin], "driver")

    held, _ = await seen_within(lambda: there.keys_for(vehicle.vin), bool, within=5.0)
    assert held == [(key, "driver", "vgc_test_app")]
    assert await there.version(vehicle.vin) > before
    assert any(vehicle.vin in vins for vins in heard)

    await app.rt.owner.keys.app_disconnected(user.id, "vgc_test_app")
    gone, _ = await seen_within(lambda: there.keys_for(vehicle.vin), lambda k: not k, within=5.0)
    assert gone == []
