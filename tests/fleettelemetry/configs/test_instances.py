"""Another process on the same database — the telemetry ingest beside a server, on the
embedded default too, where no broadcast reaches it — sees an app's configs within a second,
and the server sees what the vehicle side applied."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, Backend
from tests.fixtures.instances import another_instance, seen_within
from tests.vehicles.support import driver

CONFIG = {"hostname": "t.example.com", "fields": {"Soc": {"interval_seconds": 5}}}


@pytest.fixture
async def ingest(backend: Backend, app: App) -> AsyncIterator[App]:
    """Another instance on the first one's database (its own coordinator on SQLite)."""
    async with another_instance(backend, app) as instance:
        yield instance


async def test_configs_reach_the_other_process_and_applied_versions_come_back(
    app: App, ingest: App
) -> None:
    me = await driver(app)
    vin = me.charging.vin
    there = ingest.rt.owner.telemetry_configs
    heard: list[frozenset[str]] = []
    there.listen(heard.append)
    created = await me.post(
        "/api/1/vehicles/fleet_telemetry_config", json={"vins": [vin], "config": CONFIG}
    )
    assert created.status_code == 200, created.text

    allowed, _ = await seen_within(lambda: there.allowed(vin), bool, within=5.0)
    assert allowed and frozenset({vin}) in heard
    running = await there.for_vehicle(vin)
    assert running is not None and running.versions == {me.client_id: 1}
    await there.mark_applied(vin, running.versions)

    async def synced() -> bool:
        shown = await me.get(f"/api/1/vehicles/{vin}/fleet_telemetry_config")
        return bool(shown.json()["response"]["synced"])

    assert (await seen_within(synced, bool, within=5.0))[0]

    deleted = await me.app.http.delete(
        f"/api/1/vehicles/{vin}/fleet_telemetry_config", headers=await me.headers()
    )
    assert deleted.json() == {"response": {"updated_vehicles": 1}}
    gone, _ = await seen_within(lambda: there.allowed(vin), lambda a: not a, within=5.0)
    assert not gone
