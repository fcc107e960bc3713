"""Idempotency-Key: a retried request gets the command it created the first time; the key with
another request is a conflict; keys belong to one operator."""

from __future__ import annotations

from typing import Any

import httpx

from tests.commands.support import START, Fleet, fleet, heartbeat, stored
from tests.conftest import App
from tests.fixtures.fleet import operator

FLEX = {"target_type": "all", "command": "pause_charging", "params": {"duration": 900}}


async def _post(
    app: App, fl: Fleet, key: str, body: Any = START, action: str = "start", connector: int = 1
) -> httpx.Response:
    headers = {**fl.op.headers, "Idempotency-Key": key}
    return await app.http.post(fl.path(action, connector), json=body, headers=headers)


async def test_the_same_key_and_body_return_the_same_command(app: App) -> None:
    fl = await fleet(app)
    first = await _post(app, fl, "retry-1")
    again = await _post(app, fl, "retry-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["data"] == first.json()["data"]
    assert await stored(app, fl.op) == 1
    # Later retries report where the command is now.
    await heartbeat(app, fl)
    later = await _post(app, fl, "retry-1")
    assert later.json()["data"]["command_id"] == first.json()["data"]["command_id"]
    assert later.json()["data"]["status"] == "delivered"
    assert await stored(app, fl.op) == 1


async def test_the_same_key_with_another_request_is_409_code_4001(app: App) -> None:
    fl = await fleet(app)
    assert (await _post(app, fl, "k")).status_code == 202
    for changed in (
        await _post(app, fl, "k", {**START, "charge_power": 7}),
        await _post(app, fl, "k", connector=2),
        await _post(app, fl, "k", {}, action="stop"),
    ):
        assert changed.status_code == 409 and changed.json()["code"] == 4001
        assert "different request" in changed.json()["message"]
    assert await stored(app, fl.op) == 1


async def test_keys_are_per_operator(app: App) -> None:
    a = await fleet(app)
    b = await fleet(app, await operator(app, name="B"))
    first, other = await _post(app, a, "shared"), await _post(app, b, "shared")
    assert first.status_code == other.status_code == 202
    assert first.json()["data"]["command_id"] != other.json()["data"]["command_id"]


async def test_a_refused_request_leaves_the_key_free(app: App) -> None:
    fl = await fleet(app)
    refused = await _post(app, fl, "k", {**START, "charge_power": 99})
    assert refused.status_code == 400
    assert (await _post(app, fl, "k")).status_code == 202


async def test_a_key_is_remembered_for_a_day(app: App) -> None:
    fl = await fleet(app)
    first = (await _post(app, fl, "daily")).json()["data"]["command_id"]
    app.clock.advance(86_400)
    await app.rt.fleet.commands.sweep()
    assert (await _post(app, fl, "daily")).json()["data"]["command_id"] != first


async def test_a_flexibility_retry_returns_the_same_commands(app: App) -> None:
    fl = await fleet(app)
    await fleet(app, fl.op)
    headers = {**fl.op.headers, "Idempotency-Key": "flex-1"}
    path = "/v1/operator/control/flexibility"
    first = await app.http.post(path, json=FLEX, headers=headers)
    again = await app.http.post(path, json=FLEX, headers=headers)
    assert first.status_code == again.status_code == 202
    assert len(first.json()["data"]["command_ids"]) == 2
    assert again.json()["data"] == first.json()["data"]
    other = {**FLEX, "params": {"duration": 60}}
    assert (await app.http.post(path, json=other, headers=headers)).status_code == 409
    assert await stored(app, fl.op) == 2


async def test_an_unusable_key_is_400(app: App) -> None:
    fl = await fleet(app)
    for key in ("x" * 201, "with space", "ünïcode".encode()):
        response = await app.http.post(
            fl.path("start"), json=START, headers={**fl.op.headers, "Idempotency-Key": key}
        )
        assert response.status_code == 400 and "Idempotency-Key" in response.json()["message"]
    assert await stored(app, fl.op) == 0
