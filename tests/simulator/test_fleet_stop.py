"""Stopping a fleet lets a telemetry post already on the wire finish and be counted before the
fleet closes its connection pool (it used to close the pool under it: a `ReadError` counted as
a failed call, or a stored reading the fleet never counted)."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import App
from tests.fixtures.fleet import enroll, operator
from voltgate.simulator.charger import Behaviour
from voltgate.simulator.fleet import Fleet, FleetConfig


class HeldTelemetry(httpx.AsyncBaseTransport):
    """The app in process; a telemetry post waits, after it has been stored, until released."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.stored = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/v1/device/telemetry":
            self.stored.set()
            await self.release.wait()
        return response


async def test_a_stopped_fleet_waits_for_the_telemetry_post_on_the_wire(app: App) -> None:
    op = await operator(app)
    config = FleetConfig(
        "http://testserver",
        1,
        enrollment_token=await enroll(app, op),
        behaviour=Behaviour(telemetry_every=0.01, fault_rate=0, arrival_rate=0),
        seed=1,
    )
    async with Fleet(config) as fleet:
        await fleet.http.aclose()
        held = HeldTelemetry(app.http._transport)  # the fixture's ASGI transport
        fleet.http = httpx.AsyncClient(transport=held)  # before the chargers' clients exist
        await fleet.register()
        assert len(fleet.chargers) == 1, list(fleet.stats.recent_errors)
        fleet.start()
        await asyncio.wait_for(held.stored.wait(), 10)

        stopping = asyncio.create_task(fleet.stop())
        done, _ = await asyncio.wait({stopping}, timeout=0.5)
        assert not done, "the fleet stopped with a telemetry post still on the wire"
        held.release.set()
        await stopping

    stats = fleet.stats
    assert stats.error_count == 0, list(stats.recent_errors)
    connectors = len(fleet.chargers[0].connectors)
    assert stats.ok["telemetry"] == 1 and stats.readings == connectors
