"""Seeding: two believable vehicles per user, once, with VINs unique across users."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.conftest import App
from voltgate.errors import NotFound
from voltgate.vehicles.seed import _TRANSLITERATION, _WEIGHTS, seed_vehicles
from voltgate.vehicles.store import ChargingSession, Vehicle


def _check_digit_ok(vin: str) -> bool:
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    return vin[8] == ("X" if total % 11 == 10 else str(total % 11))


async def _user(app: App) -> str:
    user = await app.rt.identity.users.create(
        f"{secrets.token_hex(4)}@example.com", "correct horse battery"
    )
    return user.id


async def _seed(app: App, user_id: str) -> list[Vehicle]:
    return await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user_id)


async def test_seeding_is_idempotent_per_user_even_when_concurrent(app: App) -> None:
    user_id = await _user(app)
    results = await asyncio.gather(*(_seed(app, user_id) for _ in range(4)))
    first = {v.vin for v in results[0]}
    assert len(first) == 3
    assert all({v.vin for v in result} == first for result in results)
    again = await _seed(app, user_id)
    assert {v.vin for v in again} == first
    owned = await app.rt.owner.vehicles.owned(user_id)
    assert len(owned) == 3
    charging = [p for _, p in owned if p.charging]
    assert len(charging) == 1
    assert sum(1 for _, p in owned if not p.online) == 1


async def test_vins_are_unique_across_users_and_well_formed(app: App) -> None:
    vins = []
    for _ in range(5):
        vins += [v.vin for v in await _seed(app, await _user(app))]
    assert len(set(vins)) == len(vins) == 15
    assert all(len(vin) == 17 and _check_digit_ok(vin) for vin in vins)


async def test_seeding_an_unknown_user_is_404(app: App) -> None:
    with pytest.raises(NotFound):
        await _seed(app, "user_does_not_exist")


async def test_a_history_stored_as_they_are_created_lists_behind_the_model_3_s_first_charge(
    app: App,
) -> None:
    user_id = await _user(app)
    now = app.clock.now()
    calls: list[list[Vehicle]] = []

    async def history(cars: list[Vehicle]) -> None:
        calls.append(cars)
        car = cars[0]
        past = [
            ChargingSession(
                id=0,
                vehicle_id=car.id,
                user_id=user_id,
                vin=car.vin,
                location_name=f"Supercharger {n}",
                started_at=start,
                ended_at=start + 1800,
                start_level=40.0,
                end_level=80.0,
                energy_kwh=30.0,
                stop_reason="complete",
            )
            for n, start in enumerate((now - 2 * 86_400, now - 86_400), 1)
        ]
        await app.rt.owner.vehicles.add_history(past)

    cars = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user_id, history)
    again = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user_id, history)
    app.clock.advance(8 * 3600)  # the Model 3's first charge, started at seeding, completes

    assert len(calls) == 1 and {v.id for v in again} == {v.id for v in cars}
    sessions, total = await app.rt.owner.vehicles.history(user_id, None, 0, 10, True)
    assert total == 3
    assert [s.location_name for s in sessions] == ["Home", "Supercharger 2", "Supercharger 1"]
    assert sessions[0].started_at == pytest.approx(now)
