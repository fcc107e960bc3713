"""Flexibility: one request curtails or pauses every charger of a site or of the operator,
one command each; other operators' chargers are never touched."""

from __future__ import annotations

from typing import Any

from tests.commands.support import fleet, heartbeat, show, stored
from tests.conftest import App
from tests.fixtures.fleet import device_headers, enroll, operator, register, site

PATH = "/v1/operator/control/flexibility"


async def test_a_site_target_reaches_each_charger_there_once(app: App) -> None:
    op = await operator(app)
    depot = await site(app, op, name="Depot")
    token = await enroll(app, op, site_id=depot, uses=2)  # chargers enrolled for the site
    chargers = [
        await register(app, token, connectors=[{"type": "Type2", "max_power_kw": 22}])
        for _ in range(2)
    ]
    elsewhere = await fleet(app, op)
    body: dict[str, Any] = {
        "target_type": "site",
        "target_id": depot,
        "command": "set_power_limit",
        "params": {"power_limit_percent": 50, "duration": 900, "reason": "grid peak"},
    }
    response = await app.http.post(PATH, json=body, headers=op.headers)
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert data["status"] == "queued" and len(data["command_ids"]) == 2
    for charger in chargers:
        headers = await device_headers(app, charger)
        beat = await app.http.post("/v1/device/heartbeat", json={}, headers=headers)
        [delivered] = beat.json()["data"]["commands"]
        assert delivered["type"] == "set_power_limit" and delivered["connector"] is None
        assert delivered["params"] == body["params"]
        assert delivered["command_id"] in data["command_ids"]
    assert (await heartbeat(app, elsewhere))["commands"] == []


async def test_operator_and_all_targets_cover_only_the_operators_own_chargers(app: App) -> None:
    mine = await fleet(app)
    theirs = await fleet(app, await operator(app, name="B"))
    for body in (
        {"target_type": "all"},
        {"target_type": "operator"},
        {"target_type": "operator", "target_id": mine.op.client_id},
    ):
        payload = {**body, "command": "pause_charging", "params": {"duration": 600}}
        response = await app.http.post(PATH, json=payload, headers=mine.op.headers)
        assert response.status_code == 202, response.text
        [command_id] = response.json()["data"]["command_ids"]
        shown = await show(app, mine, command_id)
        assert shown["device_id"] == mine.charger.device_id and shown["type"] == "pause_charging"
    assert await stored(app, theirs.op) == 0
    assert (await heartbeat(app, theirs))["commands"] == []
