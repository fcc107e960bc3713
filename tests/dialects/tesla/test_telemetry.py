"""Fleet Telemetry configs on the Tesla dialect: `POST /api/1/vehicles/fleet_telemetry_config`,
`GET` and `DELETE /api/1/vehicles/{vehicle}/fleet_telemetry_config`, answered in Tesla's
bodies; a user's delegated token with `vehicle_device_data` reaches only that user's vehicles,
and only its own app's configs."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, REDIRECT, Driver, driver
from voltgate.vehicles.seed import vin

PATH = "/api/1/vehicles/fleet_telemetry_config"
REASONS = ("missing_key", "unsupported_hardware", "unsupported_firmware", "max_configs")
NO_SKIPS: dict[str, list[str]] = {reason: [] for reason in REASONS}
SCOPE = "vehicle_device_data"


def _ca() -> str:
    """A self-signed CA certificate in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "telemetry test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


CA = _ca()


def _config(app: App, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "hostname": "telemetry.example.com",
        "port": 4443,
        "ca": CA,
        "fields": {
            "Soc": {"interval_seconds": 60, "minimum_delta": 0.5, "resend_interval_seconds": 1800},
            "Location": {"interval_seconds": 10},
            "VehicleSpeed": {"interval_seconds": 1, "minimum_delta": 1},
        },
        "alert_types": ["service"],
        "exp": int(app.clock.now()) + 86_400,
        "prefer_typed": True,
    }
    return config | changes


def _shown(config: dict[str, Any]) -> dict[str, Any]:
    """The config as GET shows it: numbers as stored (a delta is a float)."""
    fields = {
        name: {k: float(v) if k == "minimum_delta" else v for k, v in field.items()}
        for name, field in config["fields"].items()
    }
    return config | {"fields": fields}


async def _configure(
    me: Driver, vins: list[str], config: dict[str, Any], scopes: str = SCOPE
) -> Any:
    return await me.post(PATH, scopes=scopes, json={"vins": vins, "config": config})


async def _show(me: Driver, ref: str | int, scopes: str = SCOPE) -> Any:
    return await me.get(f"/api/1/vehicles/{ref}/fleet_telemetry_config", scopes=scopes)


async def _delete(me: Driver, ref: str | int, scopes: str = SCOPE) -> Any:
    path = f"/api/1/vehicles/{ref}/fleet_telemetry_config"
    return await me.app.http.delete(path, headers=await me.headers(scopes))


async def test_configured_vehicles_show_the_config_as_stored_not_yet_synced(app: App) -> None:
    me = await driver(app)
    config = _config(app)
    created = await _configure(me, [me.charging.vin, me.asleep.vin.lower()], config)
    assert created.status_code == 200, created.text
    assert created.json() == {"response": {"updated_vehicles": 2, "skipped_vehicles": NO_SKIPS}}

    expected = {
        "response": {
            "synced": False,
            "config": _shown(config),
            "limit_reached": False,
            "key_paired": False,
        }
    }
    for ref in (me.charging.vin, me.charging.id, me.asleep.vin):
        shown = await _show(me, ref)
        assert shown.status_code == 200, shown.text
        assert shown.json() == expected

    # The least a config says: the port is Tesla's default, nothing else is shown.
    bare = {"hostname": "t.example.com", "fields": {"Soc": {"interval_seconds": 5}}}
    assert (await _configure(me, [me.asleep.vin], bare)).status_code == 200
    shown = (await _show(me, me.asleep.vin)).json()["response"]
    assert shown["config"] == bare | {"port": 443}


async def test_synced_once_the_vehicle_runs_the_config_and_not_after_it_changes(app: App) -> None:
    me = await driver(app)
    configs = app.rt.owner.telemetry_configs
    vin_ = me.charging.vin
    await _configure(me, [vin_], _config(app))
    running = await configs.for_vehicle(vin_)
    assert running is not None and running.versions == {me.client_id: 1}
    await configs.mark_applied(vin_, running.versions)
    assert (await _show(me, vin_)).json()["response"]["synced"] is True

    # The same config again is no change; another one waits for the vehicle.
    await _configure(me, [vin_], _config(app))
    assert (await _show(me, vin_)).json()["response"]["synced"] is True
    await _configure(me, [vin_], _config(app, port=443))
    assert (await _show(me, vin_)).json()["response"]["synced"] is False
    await configs.mark_applied(vin_, {me.client_id: 2})
    assert (await _show(me, vin_)).json()["response"]["synced"] is True


async def test_a_deleted_config_is_gone_and_synced_once_the_vehicle_dropped_it(app: App) -> None:
    me = await driver(app)
    configs = app.rt.owner.telemetry_configs
    vin_ = me.charging.vin
    await _configure(me, [vin_], _config(app))
    deleted = await _delete(me, vin_)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"response": {"updated_vehicles": 1}}
    shown = (await _show(me, vin_)).json()["response"]
    assert (shown["config"], shown["synced"]) == (None, False)
    assert not await configs.allowed(vin_)

    # The vehicle has yet to drop it: it is told, and says it did.
    dropping = await configs.for_vehicle(vin_)
    assert dropping is not None and dropping.apps == () and dropping.fields == {}
    await configs.mark_applied(vin_, dropping.versions)
    assert (await _show(me, vin_)).json()["response"]["synced"] is True
    assert await configs.for_vehicle(vin_) is None

    again = await _delete(me, me.charging.id)
    assert again.json() == {"response": {"updated_vehicles": 0}}


async def test_another_users_vehicle_is_not_found_like_a_missing_one(app: App) -> None:
    me = await driver(app)
    them = await driver(app, (me.client_id, me.secret))  # the same app, another user
    await _configure(them, [them.charging.vin], _config(app))
    missing = vin("5YJ3E1EB", "PF")
    for ref in (them.charging.vin, missing):
        refused = await _configure(me, [me.charging.vin, ref], _config(app, port=1))
        assert refused.status_code == 404
        assert refused.json() == {
            "response": None,
            "error": "not_found",
            "error_description": f"no vehicle {ref!r}",
            "code": 3001,
        }
        for answer in (await _show(me, ref), await _delete(me, ref)):
            assert answer.status_code == 404
            assert answer.json()["error_description"] == f"no vehicle {ref!r}"
    # Nothing was stored for my vehicle, and theirs keeps its config.
    assert (await _show(me, me.charging.vin)).json()["response"]["config"] is None
    assert (await _show(them, them.charging.vin)).json()["response"]["config"]["port"] == 4443


async def test_each_app_sees_only_its_own_config(app: App) -> None:
    me = await driver(app)
    other = await app.client(kind="third_party", scopes=ALL_SCOPES, redirect_uris=[REDIRECT])
    via_other = replace(me, client_id=other[0], secret=other[1])
    await _configure(me, [me.charging.vin], _config(app))
    shown = (await _show(via_other, me.charging.vin)).json()["response"]
    assert shown == {"synced": True, "config": None, "limit_reached": False, "key_paired": False}
    assert (await _delete(via_other, me.charging.vin)).json()["response"]["updated_vehicles"] == 0
    assert (await _show(me, me.charging.vin)).json()["response"]["config"] is not None


@pytest.mark.parametrize("scopes", ["vehicle_cmds vehicle_location", "vehicle_charging_cmds"])
async def test_without_vehicle_device_data_every_route_is_403(app: App, scopes: str) -> None:
    me = await driver(app)
    answers = [
        await _configure(me, [me.charging.vin], _config(app), scopes=scopes),
        await _show(me, me.charging.vin, scopes),
        await _delete(me, me.charging.vin, scopes),
    ]
    for answer in answers:
        assert answer.status_code == 403
        body = answer.json()
        assert (body["response"], body["code"]) == (None, 2003)
        assert body["error_description"] == "this request needs the scope vehicle_device_data"


async def test_a_token_that_is_no_users_is_refused(app: App) -> None:
    operator = await app.client(kind="operator", scopes="read write")
    token = (await app.token(*operator))["access_token"]
    me = await driver(app)
    answer = await app.http.post(
        PATH,
        json={"vins": [me.charging.vin], "config": _config(app)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403 and answer.json()["code"] == 2003


BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"fields": {"Soc": {"interval_seconds": 5}, "Sco": {"interval_seconds": 5}}}, "'Sco' is not"),
    ({"fields": {}}, "config.fields: Dictionary should have at least 1 item"),
    ({"fields": {"Soc": {"interval_seconds": 0}}}, "config.fields.Soc.interval_seconds: Input"),
    ({"fields": {"Soc": {"interval_seconds": 86_401}}}, "less than or equal to 86400"),
    ({"fields": {"Soc": {"interval_seconds": "5"}}}, "valid integer"),
    ({"fields": {"Soc": {"interval_seconds": 1.5}}}, "valid integer"),
    ({"fields": {"Soc": {"interval_seconds": 5, "minimum_delta": -1}}}, "minimum_delta"),
    ({"fields": {"Soc": {"interval_seconds": 5, "resend_interval_seconds": 0}}}, "resend"),
    ({"fields": {"Soc": {"interval_seconds": 5, "every": 2}}}, "config.fields.Soc.every"),
    ({"hostname": "bad host"}, "config.hostname: Value error, must be a host name"),
    ({"hostname": "-bad.example.com"}, "must be a host name"),
    ({"hostname": ""}, "config.hostname"),
    ({"port": 0}, "config.port"),
    ({"port": 65_536}, "config.port"),
    ({"ca": "not a certificate"}, "config.ca: Value error, must be one or more PEM certificates"),
    ({"alert_types": ["nope"]}, "'nope' is not an alert type"),
    ({"alert_types": ["service", "service"]}, "names an alert type twice"),
    ({"exp": 1_000}, "config.exp: must be a Unix time in the future"),
    ({"prefer_typed": "yes"}, "config.prefer_typed"),
    ({"delivery": "now"}, "config.delivery: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CONFIGS)
async def test_a_bad_config_is_400_naming_what_is_wrong_and_changes_nothing(
    app: App, change: dict[str, Any], message: str
) -> None:
    me = await driver(app)
    answer = await _configure(me, [me.charging.vin], _config(app, **change))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["response"], body["error"], body["code"]) == (None, "invalid_request", 1002)
    assert message in body["error_description"]
    assert (await _show(me, me.charging.vin)).json()["response"]["config"] is None


@pytest.mark.parametrize(
    ("vins", "message"),
    [
        ([], "vins: List should have at least 1 item"),
        (["5YJ3E1EB0PF00000I"], "is not a VIN"),
        ([vin("5YJ3E1EB", "PF") for _ in range(101)], "vins: List should have at most 100"),
    ],
)
async def test_bad_vins_are_400(app: App, vins: list[str], message: str) -> None:
    me = await driver(app)
    answer = await _configure(me, vins, _config(app))
    assert answer.status_code == 400 and message in answer.json()["error_description"]


async def test_a_body_that_is_no_config_is_400(app: App) -> None:
    me = await driver(app)
    for body in ({"vins": [me.charging.vin]}, {"vins": [me.charging.vin], "config": {}, "x": 1}):
        answer = await me.post(PATH, scopes=SCOPE, json=body)
        assert answer.status_code == 400 and answer.json()["code"] == 1002


async def test_an_expired_config_is_no_longer_shown_or_allowed(app: App) -> None:
    me = await driver(app)
    configs = app.rt.owner.telemetry_configs
    await _configure(me, [me.charging.vin], _config(app, exp=int(app.clock.now()) + 60))
    assert await configs.vins_configured() >= {me.charging.vin}
    app.clock.advance(61)
    shown = (await _show(me, me.charging.vin)).json()["response"]
    assert shown == {"synced": True, "config": None, "limit_reached": False, "key_paired": False}
    assert me.charging.vin not in await configs.vins_configured()
    assert await configs.for_vehicle(me.charging.vin) is None


async def test_disconnecting_the_app_removes_its_configs(app: App) -> None:
    me = await driver(app)
    configs = app.rt.owner.telemetry_configs
    await app.rt.identity.consents.grant(me.user_id, me.client_id, tuple(ALL_SCOPES.split()))
    await _configure(me, [me.charging.vin, me.asleep.vin], _config(app))
    gone = await app.http.delete(f"/v1/me/apps/{me.client_id}", headers=await me.headers())
    assert gone.status_code == 204, gone.text
    for vehicle in (me.charging, me.asleep):
        assert not await configs.allowed(vehicle.vin)
        assert (await _show(me, vehicle.vin)).json()["response"]["config"] is None


async def test_an_old_model_s_is_skipped_as_unsupported_hardware(app: App) -> None:
    me = await driver(app)
    old = replace(
        me.asleep,
        id=me.asleep.id + 1,
        vin=vin("5YJSA1E2", "GF"),  # a Model S of model year 2016
        seed_slot=None,
        car_type="models",
    )
    assert await app.rt.owner.vehicles.add([old])
    answer = await _configure(me, [old.vin, me.charging.vin], _config(app))
    skipped = NO_SKIPS | {"unsupported_hardware": [old.vin]}
    assert answer.json() == {"response": {"updated_vehicles": 1, "skipped_vehicles": skipped}}
    assert (await _show(me, old.vin)).json()["response"]["config"] is None


async def test_the_routes_are_in_the_openapi_document(app: App) -> None:
    paths = (await app.http.get("/openapi.json")).json()["paths"]
    assert set(paths[PATH]) == {"post"}
    assert set(paths["/api/1/vehicles/{vehicle}/fleet_telemetry_config"]) == {"get", "delete"}
    answers = paths[PATH]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "429"} <= set(answers)
