"""Charger events: stored when answered, listed for the charger's operator only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import device_headers, enroll, operator, register

PORTS = [{"type": "Type2", "max_power_kw": 22}]


async def test_events_are_stored_and_listed_newest_first(app: App) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    headers = await device_headers(app, charger)
    now = app.clock.now()
    body = {
        "events": [
            {"type": "plug_in", "connector": 1, "at": now - 30},
            {"type": "fault", "connector": 1, "code": "GFCI", "message": "ground fault"},
        ]
    }
    response = await app.http.post("/v1/device/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"accepted": 2}
    path = f"/v1/operator/devices/{charger.device_id}/events"
    listed = await app.http.get(path, headers=op.headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["data"]["items"]
    assert [(e["type"], e["code"]) for e in items] == [("fault", "GFCI"), ("plug_in", None)]
    assert items[1]["at"] == pytest.approx(now - 30)
    await app.rt.fleet.telemetry.flush()
    device = await app.http.get(f"/v1/operator/devices/{charger.device_id}", headers=op.headers)
    assert device.json()["data"]["online"] is True


GOOD = {"type": "plug_out", "connector": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"events": [GOOD, {"type": "fault", "connector": 2}]},
        {"events": [GOOD, {"type": "meltdown"}]},
        {"events": [GOOD, {"type": "fault", "at": "2001-01-01T00:00:00Z"}]},
        {"events": [GOOD, {"type": "fault", "code": "x" * 65}]},
        {"events": []},
        {"nothing": 1},
    ],
)
async def test_bad_events_are_400_code_1002_and_nothing_is_stored(app: App, body: Any) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    headers = await device_headers(app, charger)
    response = await app.http.post("/v1/device/events", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    path = f"/v1/operator/devices/{charger.device_id}/events"
    listed = await app.http.get(path, headers=op.headers)
    assert listed.json()["data"]["items"] == []
