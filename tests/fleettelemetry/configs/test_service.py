"""What the vehicle side reads: every app's live config merged (each field at the smallest
interval and delta any app asked for, each app's own kept for its stream), the allow-list of
vehicles with a live config, and changes told to listeners; and the bound on apps per vehicle."""

from __future__ import annotations

from tests.conftest import App
from tests.vehicles.support import Driver, driver
from voltgate.fleettelemetry.configs.service import Skipped, TelemetryConfigs
from voltgate.fleettelemetry.configs.store import FieldConfig, TelemetryConfig


def _config(
    fields: dict[str, FieldConfig],
    alert_types: tuple[str, ...] | None = None,
    exp: int | None = None,
) -> TelemetryConfig:
    return TelemetryConfig("t.example.com", 443, fields, alert_types=alert_types, exp=exp)


async def _two_apps(app: App) -> tuple[Driver, str, str]:
    me = await driver(app)
    other, _ = await app.client(kind="third_party", scopes="vehicle_device_data")
    return me, me.client_id, other


async def test_the_vehicle_runs_the_union_at_the_smallest_interval_and_delta(app: App) -> None:
    me, first, second = await _two_apps(app)
    configs = app.rt.owner.telemetry_configs
    now = int(app.clock.now())
    mine = _config(
        {
            "Soc": FieldConfig(60, 0.5, 1800),
            "Location": FieldConfig(10, 0.001),
            "Odometer": FieldConfig(600),
        },
        alert_types=("service",),
        exp=now + 3600,
    )
    theirs = _config(
        {
            "Soc": FieldConfig(30, 1.0, 600),
            "Location": FieldConfig(30),  # no delta: every change
            "VehicleSpeed": FieldConfig(1, 1.0),
        },
        alert_types=("customer", "service"),
        exp=now + 600,
    )
    vin = me.charging.vin
    assert await configs.configure(me.user_id, first, [vin], mine) == (1, Skipped())
    await configs.configure(me.user_id, second, [vin], theirs)

    running = await configs.for_vehicle(vin)
    assert running is not None
    assert running.fields == {
        "Soc": FieldConfig(30, 0.5, 600),
        "Location": FieldConfig(10, None, None),
        "Odometer": FieldConfig(600),
        "VehicleSpeed": FieldConfig(1, 1.0),
    }
    assert running.alert_types == ("customer", "service")
    assert {a.client_id: a.config for a in running.apps} == {first: mine, second: theirs}
    assert running.versions == {first: 1, second: 1}
    assert running.expires_at == now + 600

    # The second app's config expires: the vehicle runs the first one's alone, a new version.
    app.clock.advance(601)
    alone = await configs.for_vehicle(vin)
    assert alone is not None and alone.fields == mine.fields
    assert alone.versions == {first: 1} and alone.version != running.version
    assert await configs.allowed(vin) and vin in await configs.vins_configured()
    app.clock.advance(3000)
    assert await configs.for_vehicle(vin) is None
    assert not await configs.allowed(vin) and vin not in await configs.vins_configured()


async def test_listeners_hear_which_vehicles_changed(app: App) -> None:
    me, first, _ = await _two_apps(app)
    configs = app.rt.owner.telemetry_configs
    heard: list[frozenset[str]] = []
    configs.listen(heard.append)
    config = _config({"Soc": FieldConfig(5)})
    await configs.configure(me.user_id, first, [me.charging.vin, me.asleep.vin], config)
    await configs.configure(me.user_id, first, [me.charging.vin], config)  # no change
    await configs.remove(me.user_id, first, me.asleep.vin)
    running = await configs.for_vehicle(me.charging.vin)
    assert running is not None
    await configs.mark_applied(me.charging.vin, running.versions)
    await configs.mark_applied(me.charging.vin, running.versions)  # already applied
    assert heard == [
        frozenset({me.charging.vin, me.asleep.vin}),
        frozenset({me.asleep.vin}),
        frozenset({me.charging.vin}),
    ]


async def test_a_vehicle_holds_the_configs_of_at_most_max_apps_apps(app: App) -> None:
    me, first, second = await _two_apps(app)
    shared = app.rt.owner.telemetry_configs
    bounded = TelemetryConfigs(shared._store, app.rt.owner.vehicles, app.clock, max_apps=1)
    config = _config({"Soc": FieldConfig(5)})
    vin = me.charging.vin
    await bounded.configure(me.user_id, first, [vin], config)
    updated, skipped = await bounded.configure(me.user_id, second, [vin, me.asleep.vin], config)
    assert (updated, skipped.max_configs) == (1, [vin])
    assert (await bounded.show(me.user_id, second, vin)).limit_reached
    # The first app still changes its own; once it deletes it, the second one fits.
    assert (await bounded.configure(me.user_id, first, [vin], config))[0] == 1
    assert not (await bounded.show(me.user_id, first, vin)).limit_reached
    await bounded.remove(me.user_id, first, vin)
    assert (await bounded.configure(me.user_id, second, [vin], config))[0] == 1
