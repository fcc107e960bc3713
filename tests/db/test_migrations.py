"""Migrations: the schema they build is exactly the one the code declares, on both databases."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import Backend, make_settings
from tests.fixtures.services import Postgres, sqlalchemy_url
from voltgate.config import Settings
from voltgate.db.engine import Database, alembic_config, head_revision
from voltgate.db.schema import declared, metadata, users
from voltgate.runtime import Runtime, SchemaOutdated
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.store import Vehicle


async def test_migrated_schema_matches_the_declared_tables(backend: Backend) -> None:
    db = Database(make_settings(backend))
    try:
        await db.upgrade()
        assert await db.current_revision() == head_revision()
        async with db.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_name": declared}), metadata
                )
            )
        assert diff == []
    finally:
        await db.dispose()


async def _ttls_after_0012(settings: Settings) -> dict[str, int | None]:
    """Apps stored at 0011, then the upgrade: each one's token_ttl."""
    db = Database(settings)
    rows = [("a", "third_party", 3_600), ("b", "third_party", 600), ("c", "operator", 86_400)]

    def before(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), "0011")
        for client_id, kind, ttl in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO clients (id, name, kind, scopes, grant_types, token_ttl,"
                    " environment, created_at) VALUES (:id, 'n', :kind, 'read', 'x', :ttl,"
                    " 'test', 0)"
                ),
                {"id": client_id, "kind": kind, "ttl": ttl},
            )

    try:
        async with db.begin() as conn:
            await conn.run_sync(before)
        await db.upgrade()
        async with db.connect() as conn:
            return dict((await conn.execute(sa.text("SELECT id, token_ttl FROM clients"))).all())
    finally:
        await db.dispose()


# 0012: a lifetime equal to the kind's default was never chosen (there was no other way to
# have one); the rest are the apps' own.
CHOSEN = {"a": None, "b": 600, "c": None}


async def test_sqlite_apps_at_their_kinds_default_lifetime_had_chosen_none(
    tmp_path: Path,
) -> None:
    assert await _ttls_after_0012(Settings(data_dir=tmp_path)) == CHOSEN


async def _fleet_after_0013(settings: Settings) -> tuple[dict[str, bool], list[tuple[Any, ...]]]:
    """Chargers stored at 0012, one registered with connectors and one without, then the
    upgrade: which learns its connectors, and the connector rows (one learned afterwards)."""
    db = Database(settings)

    def before(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), "0012")
        for client_id, kind in (("op", "operator"), ("d1", "device"), ("d2", "device")):
            conn.execute(
                sa.text(
                    "INSERT INTO clients (id, name, kind, scopes, grant_types, environment,"
                    " created_at) VALUES (:id, 'n', :kind, 'x', 'x', 'test', 0)"
                ),
                {"id": client_id, "kind": kind},
            )
        for device_id in ("d1", "d2"):
            conn.execute(
                sa.text(
                    "INSERT INTO devices (id, operator_id, serial, model, manufacturer,"
                    " firmware_version, created_at) VALUES (:id, 'op', :id, 'm', 'm', '1', 0)"
                ),
                {"id": device_id},
            )
        conn.execute(
            sa.text("INSERT INTO connectors VALUES ('d1', 1, 'CCS2', 150), ('d1', 2, 'Type2', 22)")
        )

    try:
        async with db.begin() as conn:
            await conn.run_sync(before)
        await db.upgrade()
        async with db.begin() as conn:
            await conn.execute(
                sa.text("INSERT INTO connectors (device_id, number) VALUES ('d2', 1)")
            )
        async with db.connect() as conn:
            learns = (
                await conn.execute(sa.text("SELECT id, learns_connectors FROM devices"))
            ).all()
            ports = (
                await conn.execute(sa.text("SELECT * FROM connectors ORDER BY device_id, number"))
            ).all()
        return {d: bool(flag) for d, flag in learns}, [tuple(p) for p in ports]
    finally:
        await db.dispose()


# 0013: a charger registered without connectors learns them (it had none to use); the rest
# keep theirs; a learned connector's type and power may be unknown.
FLEET_AFTER_0013 = (
    {"d1": False, "d2": True},
    [("d1", 1, "CCS2", 150.0), ("d1", 2, "Type2", 22.0), ("d2", 1, None, None)],
)


async def test_sqlite_chargers_without_connectors_learn_them(tmp_path: Path) -> None:
    assert await _fleet_after_0013(Settings(data_dir=tmp_path)) == FLEET_AFTER_0013


# A vehicle as 0009 stored it (the columns before 0014).
OLD_VEHICLE: dict[str, object] = {
    "id": 1_000_000_000_000_001,
    "user_id": "user_old",
    "vin": "5YJ3E1EB0PF000001",
    "seed_slot": None,
    "display_name": "Old",
    "car_type": "model3",
    "exterior_color": "Red",
    "battery_kwh": 75.0,
    "rated_range_mi": 333.0,
    "charger_voltage": 230.0,
    "max_amps": 32,
    "charging_amps": 16,
    "charge_limit": 80,
    "plugged_in": True,
    "charging": False,
    "charging_state": "Stopped",
    "battery_level": 60.0,
    "state_at": 1_000.0,
    "last_active_at": 1_500.0,
    "awake_from": 1_000.0,
    "session_id": None,
    "session_start_level": None,
    "energy_added": 0.0,
    "scheduled_charging": False,
    "scheduled_minutes": None,
    "latitude": 0.0,
    "longitude": 0.0,
    "heading": 0,
    "location_name": "Home",
    "odometer_mi": 1.0,
    "inside_temp": 20.0,
    "outside_temp": 10.0,
    "locked": True,
    "version": 3,
    "created_at": 1_000.0,
}


async def _vehicle_after_0014(settings: Settings) -> Vehicle | None:
    """A vehicle stored at 0013, then the upgrade: the vehicle as the store reads it."""
    db = Database(settings)

    def before(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), "0013")
        user = {"id": "user_old", "email": "old@example.com", "display_name": "o"}
        conn.execute(users.insert().values(**user, password_hash="x", created_at=0))
        conn.execute(
            sa.text(
                f"INSERT INTO vehicles ({', '.join(OLD_VEHICLE)})"
                f" VALUES ({', '.join(':' + k for k in OLD_VEHICLE)})"
            ),
            OLD_VEHICLE,
        )

    try:
        async with db.begin() as conn:
            await conn.run_sync(before)
        await db.upgrade()
        return await SqlVehicleStore(db).get(1_000_000_000_000_001)
    finally:
        await db.dispose()


def _check_old_vehicle(vehicle: Vehicle | None) -> None:
    assert vehicle is not None and vehicle.version == 3 and vehicle.inside_temp == 20.0
    assert not (vehicle.charge_port_open or vehicle.climate_on or vehicle.defrost_on)
    assert (vehicle.driver_temp, vehicle.passenger_temp) == (21.0, 21.0)
    assert vehicle.climate_at == 1_500.0  # the cabin was last seen when the car last was
    assert vehicle.remote_start_at is None and vehicle.charge_schedules == ()


async def test_sqlite_vehicles_stored_before_0014_read_with_the_commands_defaults(
    tmp_path: Path,
) -> None:
    _check_old_vehicle(await _vehicle_after_0014(Settings(data_dir=tmp_path)))


async def test_sqlite_upgrades_itself_on_first_start(tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path / "fresh"))
    await runtime.start()
    try:
        assert await runtime.db.current_revision() == head_revision()
        assert runtime.identity.keys.ring is not None  # a signing key was generated on first start
    finally:
        await runtime.stop()


@pytest.fixture
def empty_postgres(postgres: Postgres) -> Iterator[str]:
    name = postgres.create_database(template=None)
    yield name
    postgres.drop_database(name)


async def test_postgres_apps_at_their_kinds_default_lifetime_had_chosen_none(
    empty_postgres: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=sqlalchemy_url(empty_postgres))
    assert await _ttls_after_0012(settings) == CHOSEN


async def test_postgres_chargers_without_connectors_learn_them(
    empty_postgres: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=sqlalchemy_url(empty_postgres))
    assert await _fleet_after_0013(settings) == FLEET_AFTER_0013


async def test_postgres_vehicles_stored_before_0014_read_with_the_commands_defaults(
    empty_postgres: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=sqlalchemy_url(empty_postgres))
    _check_old_vehicle(await _vehicle_after_0014(settings))


async def test_postgres_needs_db_upgrade_and_the_cli_does_it(
    empty_postgres: str, tmp_path: Path
) -> None:
    url = sqlalchemy_url(empty_postgres)
    runtime = Runtime(Settings(data_dir=tmp_path, database_url=url))
    with pytest.raises(SchemaOutdated, match="voltgate db upgrade"):
        await runtime.start()
    await runtime.stop()
    env = {"VOLTGATE_DATABASE_URL": url, "VOLTGATE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "voltgate", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert head_revision() in result.stdout
    runtime = Runtime(Settings(data_dir=tmp_path, database_url=url))
    await runtime.start()
    await runtime.stop()


async def test_messages_stored_before_0024_keep_their_ids_and_dedupe(backend: Backend) -> None:
    """0024 swaps the messages' two indexes for one: the rows stay as they were, a resend of
    one stored before still meets it, and the vehicle's messages still scan by time."""
    db = Database(make_settings(backend))
    insert = sa.text(
        "INSERT INTO vehicle_messages (vin, topic, txid, created_at, received_at, payload)"
        " VALUES ('VIN1', 'V', :txid, :at, :at, 'p') ON CONFLICT DO NOTHING"
    )

    def before(conn: sa.Connection) -> None:
        command.upgrade(alembic_config(conn), "0023")
        for n in range(3):
            conn.execute(insert, {"txid": b"tx%d" % n, "at": 1_765_000_000.0 + n})

    try:
        async with db.begin() as conn:
            await conn.run_sync(before)
            stored = (await conn.execute(sa.text("SELECT id, txid FROM vehicle_messages"))).all()
        await db.upgrade()
        async with db.begin() as conn:
            again = await conn.execute(insert, {"txid": b"tx1", "at": 1_765_000_001.0})
            assert again.rowcount == 0
            scan = sa.text(
                "SELECT id, txid FROM vehicle_messages WHERE vin = 'VIN1' AND created_at >= 0"
                " ORDER BY created_at"
            )
            assert (await conn.execute(scan)).all() == stored
    finally:
        await db.dispose()
