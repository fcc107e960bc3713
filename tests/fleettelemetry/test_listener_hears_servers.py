"""On the embedded default the telemetry listener is a process of its own on the server's
SQLite file: an alert rule created through the server (after both started) reaches the
listener's evaluator, and so does a consent granted meanwhile; neither waits for a restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Backend, make_settings
from tests.fixtures.alerting import FAST, alerting_app, consenting_vehicle, rule, third_party
from voltgate.runtime import Runtime

LOW_SOC = {"kind": "threshold", "field": "Soc", "op": "below", "value": 20, "hysteresis": 2}


async def test_a_rule_made_through_the_server_reaches_the_listeners_evaluator(
    backend: Backend,
) -> None:
    if backend.name != "sqlite":
        pytest.skip("on PostgreSQL + Redis every process hears the broadcast")
    async with alerting_app(backend) as app:
        listener = Runtime(make_settings(backend, **FAST))  # as `voltgate telemetry serve` runs
        await listener.start(serve=False)
        listener.follow_changes()
        await listener.alerting.start_evaluator()
        try:
            client = await third_party(app)
            vin = await consenting_vehicle(app, client.client_id)
            created = await rule(app, client, **LOW_SOC)
            owner = (await app.rt.owner.vehicles.owner_of(vin)) or ""

            async def heard() -> bool:
                """The rule and the consent, each taken in when the listener reloads its
                copy of their table (in no promised order between the two)."""
                rules = {r.id for r in await listener.alerting.rules.all_rules()}
                consents = listener.identity.consents
                covered = await consents.covers(owner, client.client_id, ("vehicle_device_data",))
                return created["id"] in rules and covered

            async with asyncio.timeout(10):
                while not await heard():
                    await asyncio.sleep(0.05)
        finally:
            await listener.stop()
