"""`POST /api/1/vehicles/fleet_telemetry_config_jws`: a telemetry config signed as a `Tesla.SS256`
JWS is taken by each of the user's vehicles that has the signing key paired, and skipped as
`missing_key` by the others; a token that does not verify is 400 naming why. And the unsigned
`fleet_telemetry_config` beside it: a vehicle that requires the command protocol skips it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import App
from tests.dialects.tesla.test_telemetry import NO_SKIPS, PATH, SCOPE, _config, _show, _shown
from tests.fixtures.pairing import PairedKeys, pair_in_memory
from tests.vehicles.support import Driver, driver
from voltgate.sdk.vehicle_command import generate_private_key, public_bytes
from voltgate.sdk.vehicle_command.jws import FLEET_TELEMETRY_AUDIENCE, sign, sign_fleet_config
from voltgate.sdk.vehicle_command.keys import PrivateKey

SIGNED_PATH = "/api/1/vehicles/fleet_telemetry_config_jws"


async def _send(me: Driver, vins: list[str], token: Any, scopes: str = SCOPE) -> Any:
    return await me.post(SIGNED_PATH, scopes=scopes, json={"vins": vins, "token": token})


def _iss(key: PrivateKey) -> str:
    return base64.b64encode(public_bytes(key)).decode()


@pytest.fixture
def paired(app: App) -> PairedKeys:
    return pair_in_memory(app.rt)


async def test_a_signed_config_reaches_the_vehicles_that_have_the_key_paired(
    app: App, paired: PairedKeys
) -> None:
    me = await driver(app)
    key = generate_private_key()
    paired.pair(me.signed.vin, public_bytes(key))  # requires the command protocol
    paired.pair(me.charging.vin, public_bytes(key))
    config = _config(app)
    vins = [me.signed.vin, me.charging.vin, me.asleep.vin]
    answer = await _send(me, vins, sign_fleet_config(key, config))
    assert answer.status_code == 200, answer.text
    skipped = NO_SKIPS | {"missing_key": [me.asleep.vin]}
    assert answer.json() == {"response": {"updated_vehicles": 2, "skipped_vehicles": skipped}}

    # GET shows it as Tesla does: the config with the JWS's iss and aud.
    signed = _shown(config) | {"iss": _iss(key), "aud": FLEET_TELEMETRY_AUDIENCE}
    for vehicle in (me.signed, me.charging):
        shown = (await _show(me, vehicle.vin)).json()["response"]
        assert shown["config"] == signed
        assert shown["synced"] is False
    assert (await _show(me, me.asleep.vin)).json()["response"]["config"] is None
    running = await app.rt.owner.telemetry_configs.for_vehicle(me.signed.vin)
    assert running is not None and set(running.fields) == set(config["fields"])


async def test_a_key_paired_with_none_of_them_or_removed_since_is_missing_key(
    app: App, paired: PairedKeys
) -> None:
    me = await driver(app)
    key, stranger = generate_private_key(), generate_private_key()
    paired.pair(me.signed.vin, public_bytes(stranger))
    answer = await _send(me, [me.signed.vin], sign_fleet_config(key, _config(app)))
    skipped = NO_SKIPS | {"missing_key": [me.signed.vin]}
    assert answer.json() == {"response": {"updated_vehicles": 0, "skipped_vehicles": skipped}}

    paired.pair(me.signed.vin, public_bytes(key))
    assert (await _send(me, [me.signed.vin], sign_fleet_config(key, _config(app)))).json()[
        "response"
    ]["updated_vehicles"] == 1
    paired.remove(me.signed.vin, public_bytes(key))
    again = await _send(me, [me.signed.vin], sign_fleet_config(key, _config(app, port=443)))
    assert again.json()["response"]["skipped_vehicles"]["missing_key"] == [me.signed.vin]
    kept = (await _show(me, me.signed.vin)).json()["response"]["config"]
    assert kept["port"] == 4443  # the earlier config stays


async def test_an_unsigned_config_skips_a_vehicle_that_requires_the_protocol(
    app: App, paired: PairedKeys
) -> None:
    me = await driver(app)
    key = generate_private_key()
    paired.pair(me.signed.vin, public_bytes(key))  # paired, but nothing proves who sends this
    answer = await me.post(
        PATH, scopes=SCOPE, json={"vins": [me.signed.vin, me.charging.vin], "config": _config(app)}
    )
    skipped = NO_SKIPS | {"missing_key": [me.signed.vin]}
    assert answer.json() == {"response": {"updated_vehicles": 1, "skipped_vehicles": skipped}}
    assert (await _show(me, me.signed.vin)).json()["response"]["config"] is None
    assert "iss" not in (await _show(me, me.charging.vin)).json()["response"]["config"]


def _tampered(key: PrivateKey, app: App) -> str:
    head, claims, signature = sign_fleet_config(key, _config(app)).split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=="))
    decoded["hostname"] = "attacker.example"
    moved = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{head}.{moved}.{signature}"


def _other_alg(key: PrivateKey, app: App) -> str:
    token = sign_fleet_config(key, _config(app))
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return header + token[token.index(".") :]


BAD_TOKENS = [
    (_tampered, "token: the JWS signature does not verify with its iss"),
    (_other_alg, "token: the JWS algorithm is 'none'; only Tesla.SS256 is taken"),
    (
        lambda key, app: sign(key, _config(app), "com.tesla.fleet.SomethingElse"),
        "token: the JWS audience is 'com.tesla.fleet.SomethingElse', not "
        "'com.tesla.fleet.TelemetryClient'",
    ),
    (lambda key, app: "not.a.jws", "token: the JWS header is not JSON"),
    (lambda key, app: "abc", "token: not a JWS: three base64url parts"),
]


@pytest.mark.parametrize(("make", "message"), BAD_TOKENS)
async def test_a_token_that_does_not_verify_is_400_naming_why_and_changes_nothing(
    app: App, paired: PairedKeys, make: Any, message: str
) -> None:
    me = await driver(app)
    key = generate_private_key()
    paired.pair(me.charging.vin, public_bytes(key))
    answer = await _send(me, [me.charging.vin], make(key, app))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["response"], body["error"], body["code"]) == (None, "invalid_request", 1001)
    assert body["error_description"].startswith(message)
    assert (await _show(me, me.charging.vin)).json()["response"]["config"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hostname": "bad host"}, "token.hostname: Value error, must be a host name"),
        ({"fields": {"Soc": {"interval_seconds": 1.5}}}, "token.fields.Soc.interval_seconds"),
        ({"delivery": "now"}, "token.delivery: Extra inputs are not permitted"),
        ({"exp": 1_000}, "config.exp: must be a Unix time in the future"),
    ],
)
async def test_a_signed_config_is_validated_as_the_unsigned_one(
    app: App, paired: PairedKeys, change: dict[str, Any], message: str
) -> None:
    me = await driver(app)
    key = generate_private_key()
    paired.pair(me.charging.vin, public_bytes(key))
    answer = await _send(me, [me.charging.vin], sign_fleet_config(key, _config(app, **change)))
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == 1002
    assert message in answer.json()["error_description"]


async def test_the_body_vins_and_scope_are_checked_as_for_the_unsigned_route(
    app: App, paired: PairedKeys
) -> None:
    me = await driver(app)
    token = sign_fleet_config(generate_private_key(), _config(app))
    for body in ({"vins": [me.charging.vin]}, {"vins": ["nope"], "token": token}):
        answer = await me.post(SIGNED_PATH, scopes=SCOPE, json=body)
        assert answer.status_code == 400 and answer.json()["code"] == 1002
    other = await driver(app)
    assert (await _send(me, [other.charging.vin], token)).status_code == 404
    scoped = await _send(me, [me.charging.vin], token, scopes="vehicle_location")
    assert scoped.status_code == 403 and scoped.json()["code"] == 2003


async def test_the_route_is_in_the_openapi_document(app: App) -> None:
    paths = (await app.http.get("/openapi.json")).json()["paths"]
    answers = paths[SIGNED_PATH]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "429"} <= set(answers)
