"""The config store's contract, on SQLite and on PostgreSQL, for the SQL store and the read
model over it: a config reads back as stored, every change moves its version (a deletion
too), the applied version only moves forward up to the version, and every write is read back
in the order it was made by a reader that catches up from the last row it saw."""

from __future__ import annotations

import pytest

from tests.conftest import App
from voltgate.changes import Changes
from voltgate.fleettelemetry.configs.readmodel import ConfigReadModel
from voltgate.fleettelemetry.configs.repository import SqlConfigStore
from voltgate.fleettelemetry.configs.store import (
    Applied,
    ConfigStore,
    FieldConfig,
    TelemetryConfig,
)

VIN = "5YJ3E1EB0PF000001"
OTHER_VIN = "7SAYGDEE0RA000002"
FULL = TelemetryConfig(
    hostname="telemetry.example.com",
    port=4443,
    fields={
        "Soc": FieldConfig(60, 0.5, 1800),
        "Location": FieldConfig(10),
        "VehicleSpeed": FieldConfig(1, 1.0),
    },
    ca="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    alert_types=("service",),
    exp=2_000_000_000,
    prefer_typed=True,
)
BARE = TelemetryConfig(hostname="t.example.com", port=443, fields={"Soc": FieldConfig(5)})


def _store(app: App, kind: str) -> ConfigStore:
    if kind == "sql":
        return SqlConfigStore(app.rt.db)
    return ConfigReadModel(SqlConfigStore(app.rt.db), app.rt.changes)


@pytest.fixture(params=["sql", "readmodel"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_config_reads_back_as_stored_and_each_save_is_a_new_version(
    app: App, kind: str
) -> None:
    store = _store(app, kind)
    saved = await store.save("app1", "user1", [(VIN, FULL), (OTHER_VIN, BARE)], 100.0)
    assert [(r.vin, r.config, r.version, r.applied_version) for r in saved] == [
        (VIN, FULL, 1, 0),
        (OTHER_VIN, BARE, 1, 0),
    ]
    got = await store.get("app1", VIN)
    assert got is not None and got.config == FULL and got.user_id == "user1"
    assert got.updated_at == 100.0 and not got.synced

    again = await store.save("app1", "user1", [(VIN, BARE)], 200.0)
    assert [(r.config, r.version, r.updated_at) for r in again] == [(BARE, 2, 200.0)]
    assert [r.client_id for r in await store.of_vehicle(VIN)] == ["app1"]
    assert await store.get("app2", VIN) is None


async def test_a_deletion_keeps_the_record_without_a_config_and_moves_its_version(
    app: App, kind: str
) -> None:
    store = _store(app, kind)
    await store.save("app1", "user1", [(VIN, FULL)], 100.0)
    deleted = await store.delete("app1", [VIN, OTHER_VIN], 150.0)
    assert [(r.vin, r.config, r.version) for r in deleted] == [(VIN, None, 2)]
    assert await store.delete("app1", [VIN], 160.0) == []  # nothing left to delete

    # Configured again, the version goes on from the deletion's.
    (back,) = await store.save("app1", "user1", [(VIN, BARE)], 170.0)
    assert (back.config, back.version, back.applied_version) == (BARE, 3, 0)


async def test_deleting_for_a_user_takes_only_that_apps_configs_of_that_users_vehicles(
    app: App, kind: str
) -> None:
    store = _store(app, kind)
    await store.save("app1", "user1", [(VIN, FULL)], 100.0)
    await store.save("app1", "user2", [(OTHER_VIN, FULL)], 100.0)
    await store.save("app2", "user1", [(VIN, BARE)], 100.0)
    gone = await store.delete_for_user("app1", "user1", 200.0)
    assert [(r.client_id, r.vin, r.config) for r in gone] == [("app1", VIN, None)]
    assert await store.delete_for_user("app1", "user1", 210.0) == []
    left = {(r.client_id, r.vin): r.config for r in await store.all()}
    assert left == {("app1", VIN): None, ("app1", OTHER_VIN): FULL, ("app2", VIN): BARE}


async def test_the_applied_version_moves_forward_up_to_the_version_only(
    app: App, kind: str
) -> None:
    store = _store(app, kind)
    await store.save("app1", "user1", [(VIN, FULL)], 100.0)
    await store.save("app1", "user1", [(VIN, BARE)], 110.0)  # version 2
    assert await store.mark_applied([Applied("app1", VIN, 3)]) == []  # not stored yet
    (moved,) = await store.mark_applied([Applied("app1", VIN, 1)])
    assert (moved.applied_version, moved.synced) == (1, False)
    (moved,) = await store.mark_applied([Applied("app1", VIN, 2), Applied("app9", VIN, 1)])
    assert (moved.applied_version, moved.synced) == (2, True)
    assert await store.mark_applied([Applied("app1", VIN, 1)]) == []  # never backwards
    held = await store.get("app1", VIN)
    assert held is not None and held.synced


async def test_a_reader_catches_up_with_every_write_in_order(app: App) -> None:
    """Another process's read model (its own `Changes`, no broadcast between them) sees each
    write once it catches up, a deletion and an applied version included."""
    writer = ConfigReadModel(SqlConfigStore(app.rt.db), app.rt.changes)
    elsewhere = Changes(app.rt.coordinator, app.rt.data_state, origin="elsewhere")
    reader = ConfigReadModel(SqlConfigStore(app.rt.db), elsewhere)
    heard: list[frozenset[str]] = []
    reader.listen(heard.append)
    assert await reader.all() == []

    await writer.save("app1", "user1", [(VIN, FULL), (OTHER_VIN, BARE)], 100.0)
    assert await reader.get("app1", VIN) is None  # not caught up yet
    await reader.catch_up()
    assert (await reader.get("app1", VIN)) == (await writer.get("app1", VIN))
    assert heard == [frozenset({VIN, OTHER_VIN})]

    await writer.delete("app1", [VIN], 120.0)
    await writer.mark_applied([Applied("app1", OTHER_VIN, 1)])
    await reader.catch_up()
    assert {(r.vin, r.config is None, r.synced) for r in await reader.all()} == {
        (VIN, True, False),
        (OTHER_VIN, False, True),
    }
    assert heard[1:] == [frozenset({VIN, OTHER_VIN})]
    await reader.catch_up()  # nothing new: nobody told
    assert len(heard) == 2
