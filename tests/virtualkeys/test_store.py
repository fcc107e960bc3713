"""The paired-keys store's contract, on SQLite and on PostgreSQL, for the SQL store and the read
model over it: a key comes back exactly as paired, pairing again changes its role, removing one
removes only it, and an app's keys go when the owner disconnects it."""

from __future__ import annotations

from typing import Protocol

import pytest

from tests.conftest import App
from voltgate.identity.appkeys import generate
from voltgate.virtualkeys.readmodel import PairingReadModel
from voltgate.virtualkeys.repository import SqlPairingStore
from voltgate.virtualkeys.store import PairedKey

VIN_A, VIN_B = "5YJ3E1EA7PF000001", "7SAYGDEE1PF000002"


class Store(Protocol):
    async def pair(self, keys: list[PairedKey]) -> None: ...

    async def unpair(self, vin: str, client_id: str, public_key: bytes) -> bool: ...

    async def unpair_app(self, client_id: str, user_id: str) -> list[PairedKey]: ...

    async def of_vehicle(self, vin: str) -> list[PairedKey]: ...


def _store(app: App, kind: str) -> Store:
    sql = SqlPairingStore(app.rt.db)
    return sql if kind == "sql" else PairingReadModel(sql, app.rt.changes)


@pytest.mark.parametrize("kind", ["sql", "readmodel"])
async def test_paired_keys_come_back_as_paired_and_pairing_again_moves_the_role(
    app: App, kind: str
) -> None:
    store, now = _store(app, kind), app.clock.now()
    one, two = generate().point, generate().point
    first = PairedKey(VIN_A, "vgc_test_app1", one, "driver", "user1", now)
    other = PairedKey(VIN_A, "vgc_test_app2", two, "owner", "user1", now + 1)
    elsewhere = PairedKey(VIN_B, "vgc_test_app1", one, "charging_manager", "user2", now + 2)
    await store.pair([first, other, elsewhere])
    assert await store.of_vehicle(VIN_A) == [first, other]
    assert await store.of_vehicle(VIN_B) == [elsewhere]
    assert await SqlPairingStore(app.rt.db).of_vehicle(VIN_A) == [first, other]

    again = PairedKey(VIN_A, "vgc_test_app1", one, "vehicle_monitor", "user1", now + 5)
    await store.pair([again])
    assert await store.of_vehicle(VIN_A) == [again, other]


@pytest.mark.parametrize("kind", ["sql", "readmodel"])
async def test_removing_a_key_removes_that_key_only(app: App, kind: str) -> None:
    store, now = _store(app, kind), app.clock.now()
    one, two = generate().point, generate().point
    kept = PairedKey(VIN_A, "vgc_test_app1", two, "driver", "user1", now)
    await store.pair([PairedKey(VIN_A, "vgc_test_app1", one, "driver", "user1", now), kept])
    assert await store.unpair(VIN_A, "vgc_test_app1", one)
    assert not await store.unpair(VIN_A, "vgc_test_app1", one)  # gone already
    assert await store.of_vehicle(VIN_A) == [kept]


@pytest.mark.parametrize("kind", ["sql", "readmodel"])
async def test_an_apps_keys_that_the_owner_paired_go_together(app: App, kind: str) -> None:
    store, now = _store(app, kind), app.clock.now()
    key, theirs = generate().point, generate().point
    mine_a = PairedKey(VIN_A, "vgc_test_app1", key, "driver", "user1", now)
    mine_b = PairedKey(VIN_B, "vgc_test_app1", key, "owner", "user1", now)
    other_app = PairedKey(VIN_A, "vgc_test_app2", theirs, "driver", "user1", now)
    other_owner = PairedKey("LRW3E7FA1PC000003", "vgc_test_app1", key, "driver", "user2", now)
    await store.pair([mine_a, mine_b, other_app, other_owner])
    removed = await store.unpair_app("vgc_test_app1", "user1")
    assert sorted(removed, key=lambda k: k.vin) == [mine_a, mine_b]
    assert await store.of_vehicle(VIN_A) == [other_app]
    assert await store.of_vehicle(VIN_B) == []
    assert await store.of_vehicle(other_owner.vin) == [other_owner]
    assert await store.unpair_app("vgc_test_app1", "user1") == []


async def test_a_vehicles_key_version_grows_and_listeners_hear_each_change(app: App) -> None:
    store = PairingReadModel(SqlPairingStore(app.rt.db), app.rt.changes)
    heard: list[frozenset[str]] = []
    store.listen(heard.append)
    before_a, before_b = await store.version(VIN_A), await store.version(VIN_B)
    key = generate().point
    await store.pair([PairedKey(VIN_A, "vgc_test_app1", key, "driver", "user1", 0.0)])
    assert await store.version(VIN_A) > before_a
    assert await store.version(VIN_B) == before_b
    assert heard == [frozenset({VIN_A})]
    paired = await store.version(VIN_A)
    await store.unpair(VIN_A, "vgc_test_app1", key)
    assert await store.version(VIN_A) > paired
    assert heard[-1] == frozenset({VIN_A})
