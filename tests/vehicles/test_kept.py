"""Kept answers on the Tesla reads: an answer is reused while the user's vehicles are unchanged
and for at most a second, a change made through the API shows in the very next read, and a
token that no longer works gets its error, never a kept answer. (The clock is frozen: without
a change or a second passing, a kept answer would be served for ever.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.vehicles.support import DEFAULT_SCOPES, Driver, driver
from voltgate.vehicles.service import Vehicles


def _charge(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()["response"]["charge_state"]
    return state


def _counted(
    monkeypatch: pytest.MonkeyPatch, vehicles: Vehicles, name: str
) -> list[tuple[Any, ...]]:
    """The calls the routes make to `vehicles.<name>` from now on."""
    calls: list[tuple[Any, ...]] = []
    real: Callable[..., Awaitable[Any]] = getattr(vehicles, name)

    async def counting(*args: Any) -> Any:
        calls.append(args)
        return await real(*args)

    monkeypatch.setattr(vehicles, name, counting)
    return calls


async def _bearer(me: Driver, scopes: str = DEFAULT_SCOPES) -> dict[str, str]:
    return await me.headers(scopes)


async def test_a_vehicle_data_answer_is_reused_for_at_most_a_second(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await driver(app)
    calls = _counted(monkeypatch, app.rt.owner.vehicles, "data")
    path = f"/api/1/vehicles/{me.charging.id}/vehicle_data"
    headers = await _bearer(me)
    first = await app.http.get(path, headers=headers)
    again = await app.http.get(path, headers=await _bearer(me))  # another token, same grant
    assert again.content == first.content
    assert len(calls) == 1
    # Each kept answer still counts against the app's limit.
    assert (
        int(again.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    )

    app.clock.advance(1.0)  # the charge moved on: made again
    later = await app.http.get(path, headers=headers)
    assert len(calls) == 2
    assert _charge(later)["timestamp"] > _charge(first)["timestamp"]


async def _sessions(me: Driver) -> int:
    response = await me.get("/api/1/dx/charging/history")
    assert response.status_code == 200, response.text
    total: int = response.json()["response"]["totalResults"]
    return total


async def test_a_command_shows_in_the_very_next_vehicle_data(app: App) -> None:
    me = await driver(app)
    before = _charge(await me.data(me.charging))
    assert (before["charging_state"], before["charge_limit_soc"]) == ("Charging", 80)
    assert await _sessions(me) == 0

    limited = await me.command(me.charging, "set_charge_limit", {"percent": 90})
    assert limited.json()["response"] == {"result": True, "reason": ""}
    assert _charge(await me.data(me.charging))["charge_limit_soc"] == 90

    stopped = await me.command(me.charging, "charge_stop")
    assert stopped.json()["response"] == {"result": True, "reason": ""}
    assert _charge(await me.data(me.charging))["charging_state"] == "Stopped"
    assert await _sessions(me) == 1  # the stopped charge


async def test_a_kept_answer_is_per_scope_and_per_user(app: App) -> None:
    me = await driver(app)
    path = f"/api/1/vehicles/{me.charging.id}/vehicle_data"
    located = await me.get(path, scopes="vehicle_device_data vehicle_location")
    assert "latitude" in located.json()["response"]["drive_state"]
    unlocated = await me.get(path, scopes="vehicle_device_data")
    assert "latitude" not in unlocated.json()["response"]["drive_state"]

    neighbour = await driver(app, (me.client_id, me.secret))  # the same app, another user
    theirs = await neighbour.get(path)
    assert theirs.status_code == 404


async def test_a_revoked_grant_gets_its_error_not_the_kept_answer(app: App) -> None:
    me = await driver(app)
    path = f"/api/1/vehicles/{me.charging.id}/vehicle_data"
    headers = await _bearer(me)
    assert (await app.http.get(path, headers=headers)).status_code == 200
    assert await app.rt.identity.consents.disconnect(me.user_id, me.client_id)
    refused = await app.http.get(path, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["response"] is None
