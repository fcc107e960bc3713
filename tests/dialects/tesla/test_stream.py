"""The vehicle stream, `GET /api/1/vehicles/stream` (a WebSocket): a user's delegated token
with `vehicle_device_data` gets the signals of the user's vehicles as they are published,
locations only with `vehicle_location`; anything else is refused in the Tesla error body at
the handshake; revoking the token closes the stream."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tests.conftest import App
from tests.fixtures.sockets import Closed, Refused, app_socket
from tests.vehicles.support import driver
from voltgate.streams import vehicles

PATH = "/api/1/vehicles/stream"


class Signal(NamedTuple):
    vin: str
    field: str
    at: float
    value: Any


def _publish(app: App, vin: str, *signals: tuple[str, Any]) -> None:
    message = [Signal(vin, name, 0.0, value) for name, value in signals]
    vehicles.publish(app.rt.streams.vehicles, vin, 1767268800.0, message)


async def test_a_users_vehicles_stream_their_signals_locations_only_with_the_scope(
    app: App,
) -> None:
    user = await driver(app)
    vin, other = user.charging.vin, user.asleep.vin
    located = await user.headers("vehicle_device_data vehicle_location")
    plain = (await user.headers("vehicle_device_data"))["Authorization"].split()[1]

    async with (
        app_socket(app.asgi, PATH, headers=located) as everything,  # type: ignore[arg-type]
        app_socket(app.asgi, PATH, f"vins={vin}&token={plain}") as unlocated,  # type: ignore[arg-type]
    ):
        _publish(app, vin, ("Soc", 61.5), ("Location", (48.1374, 11.5755)))
        _publish(app, other, ("Odometer", 1204.5))
        first = await everything.json()
        assert first == {
            "vin": vin,
            "created_at": "2026-01-01T12:00:00.000Z",
            "data": [
                {"key": "Soc", "value": 61.5},
                {"key": "Location", "value": {"latitude": 48.1374, "longitude": 11.5755}},
            ],
        }
        assert (await everything.json())["vin"] == other  # all the user's vehicles
        assert await unlocated.json() == {**first, "data": [{"key": "Soc", "value": 61.5}]}
        _publish(app, vin, ("Location", (48.0, 11.0)))  # nothing for `unlocated`
        _publish(app, vin, ("ChargeAmps", 16))
        assert [d["key"] for d in (await unlocated.json())["data"]] == ["ChargeAmps"]


@pytest.mark.parametrize(
    ("scopes", "query", "status", "code"),
    [
        ("vehicle_cmds", "", 403, 2003),  # not vehicle_device_data
        ("vehicle_device_data", "vins=5YJ3E7EB2NF999999", 404, 3001),  # not the user's
        ("vehicle_device_data", "vins=,", 400, 1002),
    ],
)
async def test_the_handshake_is_refused_in_teslas_error_body(
    app: App, scopes: str, query: str, status: int, code: int
) -> None:
    user = await driver(app)
    with pytest.raises(Refused) as refused:
        async with app_socket(app.asgi, PATH, query, await user.headers(scopes)):  # type: ignore[arg-type]
            pass
    assert refused.value.status == status
    body = refused.value.json()
    assert body["response"] is None and body["code"] == code
    assert refused.value.headers[b"ratelimit-limit"]  # the handshake counts against the app


async def test_no_token_an_operator_token_and_a_plain_get_are_refused(app: App) -> None:
    with pytest.raises(Refused) as refused:
        async with app_socket(app.asgi, PATH):  # type: ignore[arg-type]
            pass
    assert refused.value.status == 401 and refused.value.json()["code"] == 2001
    assert refused.value.headers[b"www-authenticate"].startswith(b"Bearer")

    cid, secret = await app.client(kind="operator", scopes="read")
    token = (await app.token(cid, secret))["access_token"]
    with pytest.raises(Refused) as refused:
        async with app_socket(app.asgi, PATH, f"token={token}"):  # type: ignore[arg-type]
            pass
    assert refused.value.status == 403

    user = await driver(app)
    own = await app.token(user.client_id, user.secret, scope="vehicle_device_data")
    with pytest.raises(Refused) as refused:  # the app's own token: no user behind it
        async with app_socket(app.asgi, PATH, f"token={own['access_token']}"):  # type: ignore[arg-type]
            pass
    assert refused.value.status == 403 and refused.value.json()["code"] == 2003

    response = await app.http.get(PATH, headers=await user.headers())
    assert response.status_code == 426 and response.headers["upgrade"] == "websocket"
    assert response.json()["code"] == 1001


async def test_revoking_the_token_closes_its_stream(app: App) -> None:
    user = await driver(app)
    headers = await user.headers("vehicle_device_data")
    async with app_socket(app.asgi, PATH, headers=headers) as stream:  # type: ignore[arg-type]
        revoked = await app.http.post(
            "/oauth/revoke",
            data={"token": headers["Authorization"].split()[1]},
            auth=(user.client_id, user.secret),
        )
        assert revoked.status_code == 200, revoked.text
        with pytest.raises(Closed) as closed:
            await stream.text(within=2)
    assert (closed.value.code, closed.value.reason) == (1008, "the access token was revoked")


async def test_a_stream_closes_when_its_token_expires(app: App) -> None:
    user = await driver(app)
    headers = await user.headers("vehicle_device_data")
    async with app_socket(app.asgi, PATH, headers=headers) as stream:  # type: ignore[arg-type]
        _publish(app, user.charging.vin, ("Soc", 50.0))
        assert (await stream.json())["data"] == [{"key": "Soc", "value": 50.0}]
        app.clock.advance(8 * 3600 + 1)  # past the Tesla access token's 8 hours
        with pytest.raises(Closed) as closed:
            await stream.text(within=2)
    assert (closed.value.code, closed.value.reason) == (1008, "the access token expired")


async def test_disabling_the_app_closes_its_streams(app: App) -> None:
    user = await driver(app)
    headers = await user.headers("vehicle_device_data")
    async with app_socket(app.asgi, PATH, headers=headers) as stream:  # type: ignore[arg-type]
        await app.rt.identity.admin.disable(user.client_id)
        with pytest.raises(Closed) as closed:
            await stream.text(within=2)
    assert (closed.value.code, closed.value.reason) == (
        1008,
        "the access token's client was disabled",
    )
