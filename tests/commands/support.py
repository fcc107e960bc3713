"""An operator with one two-connector charger, and the requests the command tests repeat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register

CONNECTORS = [{"type": "Type2", "max_power_kw": 22}, {"type": "CCS2", "max_power_kw": 150}]
START = {"charge_power": 11, "duration": 3600, "target_soc": 80}
DISCHARGE = {"discharge_power": 7.4, "duration": 3600, "min_soc": 30}


@dataclass
class Fleet:
    op: Operator
    charger: Charger
    device: dict[str, str]  # the charger's bearer header

    def path(self, action: str, connector: int = 1) -> str:
        return f"/v1/operator/devices/{self.charger.device_id}/connectors/{connector}/{action}"


async def fleet(app: App, op: Operator | None = None, **fields: Any) -> Fleet:
    op = op or await operator(app)
    charger = await register(app, await enroll(app, op), connectors=CONNECTORS, **fields)
    return Fleet(op, charger, await device_headers(app, charger))


async def command(
    app: App, fl: Fleet, action: str = "start", body: Any = None, **options: Any
) -> httpx.Response:
    payload = START if body is None and action == "start" else body
    return await app.http.post(fl.path(action, **options), json=payload, headers=fl.op.headers)


async def queued(app: App, fl: Fleet, action: str = "start", body: Any = None) -> str:
    response = await command(app, fl, action, body)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["command_id"])


async def show(app: App, fl: Fleet, command_id: str) -> dict[str, Any]:
    response = await app.http.get(f"/v1/operator/commands/{command_id}", headers=fl.op.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def report(app: App, fl: Fleet, command_id: str, status: str, **extra: Any) -> httpx.Response:
    body = {"command_id": command_id, "status": status, **extra}
    return await app.http.post("/v1/device/command-status", json=body, headers=fl.device)


async def heartbeat(app: App, fl: Fleet, body: Any = None) -> dict[str, Any]:
    response = await app.http.post("/v1/device/heartbeat", json=body or {}, headers=fl.device)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def stored(app: App, op: Operator) -> int:
    """How many commands the operator has."""
    response = await app.http.get("/v1/operator/commands", headers=op.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["total"])
