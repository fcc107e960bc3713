"""Two instances on one PostgreSQL and Redis: a reading a charger posts to one shows as the
latest on the other within a second (the flush publishes its devices; the other reads them)."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.fixtures.fleet import Operator, device_headers, enroll, operator, register
from tests.fixtures.instances import seen_within
from tests.telemetry.test_ingest import PORTS, reading


async def _latest(instance: App, op: Operator, device_id: str) -> list[dict[str, Any]]:
    response = await instance.http.get(
        f"/v1/operator/devices/{device_id}/telemetry/latest", headers=op.headers
    )
    assert response.status_code == 200, response.text
    connectors: list[dict[str, Any]] = response.json()["data"]["connectors"]
    return connectors


async def test_a_reading_posted_to_one_instance_is_the_latest_on_the_other_within_a_second(
    app: App, second: App
) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    headers = await device_headers(app, charger)
    assert await _latest(second, op, charger.device_id) == []  # it has looked: it holds none
    for power in (11.5, 22.0):
        app.clock.advance(5)
        body = {
            "connectors": [
                reading(1, power_kw=power),
                reading(2, state="available", power_kw=0, energy_kwh=0),
            ]
        }
        response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
        assert response.status_code == 202, response.text
        shown, delay = await seen_within(
            lambda: _latest(second, op, charger.device_id),
            lambda found, p=power: [c["power_kw"] for c in found][:1] == [p],
            1.0,
        )
        assert [c["power_kw"] for c in shown][:1] == [power] and delay < 1.0
        assert shown == await _latest(app, op, charger.device_id)
        assert [c["state"] for c in shown] == ["charging", "available"]
