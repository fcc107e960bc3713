"""`POST /api/1/vehicles/fleet_status`: which of the vehicles hold the calling app's registered
key; the user's own vehicles get details, anything else is unpaired and nothing more."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.fixtures.keyhost import KeyHost, key_host
from tests.vehicles.support import Driver, driver
from voltgate.identity.appkeys import KeyPair, generate

STATUS = "/api/1/vehicles/fleet_status"
OTHER_VIN = "5YJ3E1EA7PF999999"


async def _register(me: Driver, host: KeyHost, pair: KeyPair | None = None) -> KeyPair:
    """The driver's app registers `host` (serving `pair`) with its own client credentials."""
    served = host.serve_key(pair)
    token = await me.app.http.post(
        "/oauth2/v3/token",
        data={"grant_type": "client_credentials"},
        auth=(me.client_id, me.secret),
    )
    registered = await me.app.http.post(
        "/api/1/partner_accounts",
        json={"domain": host.domain},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert registered.status_code == 200, registered.text
    return served


async def _status(me: Driver, vins: list[str], scopes: str = "vehicle_cmds") -> dict[str, Any]:
    answer = await me.post(STATUS, scopes=scopes, json={"vins": vins})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["response"]
    return body


async def test_a_vehicle_holding_the_apps_key_is_paired_and_the_rest_are_not(app: App) -> None:
    me = await driver(app)
    someone = await driver(app, (me.client_id, me.secret))
    with key_host() as host:
        pair = await _register(me, host)
    await app.rt.owner.keys.pair(me.user_id, me.client_id, pair.point, [me.charging.vin], "driver")
    theirs = someone.charging.vin
    await app.rt.owner.keys.pair(someone.user_id, me.client_id, pair.point, [theirs], "owner")

    status = await _status(me, [me.charging.vin, me.asleep.vin.lower(), theirs, OTHER_VIN])
    assert status["key_paired_vins"] == [me.charging.vin]
    # Another user's vehicle (paired with this very key) is unpaired for this user, like none.
    assert status["unpaired_vins"] == [me.asleep.vin, theirs, OTHER_VIN]
    assert set(status["vehicle_info"]) == {me.charging.vin, me.asleep.vin}
    assert status["vehicle_info"][me.charging.vin] == {
        "firmware_version": "2024.26.7",
        "vehicle_command_protocol_required": False,
        "discounted_device_data": False,
        "fleet_telemetry_version": "1.0.0",
        "total_number_of_keys": 1,
    }
    assert status["vehicle_info"][me.asleep.vin]["total_number_of_keys"] == 0


async def test_after_the_app_registers_a_rotated_key_its_vehicles_need_pairing_again(
    app: App,
) -> None:
    me = await driver(app)
    with key_host() as host:
        old = await _register(me, host)
        await app.rt.owner.keys.pair(
            me.user_id, me.client_id, old.point, [me.charging.vin], "driver"
        )
        assert (await _status(me, [me.charging.vin]))["key_paired_vins"] == [me.charging.vin]
        await _register(me, host, generate())
    status = await _status(me, [me.charging.vin])
    assert status["unpaired_vins"] == [me.charging.vin]
    assert status["vehicle_info"][me.charging.vin]["total_number_of_keys"] == 1  # the old one


async def test_an_app_without_a_registered_key_has_no_paired_vehicle(app: App) -> None:
    me = await driver(app)
    status = await _status(me, [me.charging.vin], scopes="vehicle_device_data")
    assert status["key_paired_vins"] == [] and status["unpaired_vins"] == [me.charging.vin]


async def test_bad_bodies_are_400_and_other_tokens_403(app: App) -> None:
    me = await driver(app)
    for body in ({"vins": []}, {"vins": ["NOT-A-VIN"]}, {"vins": [OTHER_VIN], "x": 1}, {}):
        refused = await me.post(STATUS, json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["response"] is None
    no_scope = await me.post(STATUS, scopes="offline_access", json={"vins": [OTHER_VIN]})
    assert no_scope.status_code == 403
    partner_id, secret = await app.client(kind="partner", scopes="openid")
    token = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=(partner_id, secret)
    )
    partner = await app.http.post(
        STATUS,
        json={"vins": [OTHER_VIN]},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert partner.status_code == 403 and "third_party" in partner.json()["error_description"]
