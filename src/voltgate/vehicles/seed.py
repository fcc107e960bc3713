"""Three believable vehicles per user for the sandbox and the tests: a Model 3 plugged in at
home and charging, a Model Y asleep at the office, unplugged (both still take unsigned commands:
`command_signing` allowed), and a newer Model 3 parked at home that takes only commands signed
with a paired key (required). Idempotent per user (a seed slot is unique per user); VINs carry
a valid check digit and are unique across users."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

from voltgate.errors import Conflict
from voltgate.vehicles.service import Vehicles
from voltgate.vehicles.store import Vehicle


class Users(Protocol):
    async def get(self, user_id: str) -> object:
        """The user; NotFound when there is none (`identity.users.Users`)."""


_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(prefix: str, year_plant: str) -> str:
    """A VIN: 8-character prefix (maker, model, body), ISO 3779 check digit, model year and
    plant, and a random 6-digit serial."""
    draft = f"{prefix}0{year_plant}{secrets.randbelow(10**6):06d}"
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(draft, _WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return draft[:8] + check + draft[9:]


def _vehicle_id() -> int:
    return 10**15 + secrets.randbelow(2**53 - 10**15)  # Tesla-like, and exact in JavaScript


def _cabin(since: float) -> dict[str, Any]:
    """Climate off at 21 °C setpoints, the port door closed, no remote start or schedules."""
    return {
        "charge_port_open": False,
        "climate_on": False,
        "defrost_on": False,
        "driver_temp": 21.0,
        "passenger_temp": 21.0,
        "climate_at": since,
        "remote_start_at": None,
        "charge_schedules": (),
        "command_protocol": "",  # no session asked for yet
    }


def _model_3(user_id: str, now: float) -> Vehicle:
    return Vehicle(
        id=_vehicle_id(),
        user_id=user_id,
        vin=vin("5YJ3E1EB", "PF"),
        seed_slot=1,
        display_name="Volta",
        car_type="model3",
        exterior_color="MidnightSilver",
        battery_kwh=75.0,
        rated_range_mi=333.0,
        charger_voltage=230.0,
        max_amps=32,
        charging_amps=16,
        charge_limit=80,
        plugged_in=True,
        charging=False,
        charging_state="Stopped",
        battery_level=55.0,
        state_at=now,
        last_active_at=now,
        awake_from=now,
        session_id=None,
        session_start_level=None,
        energy_added=0.0,
        scheduled_charging=False,
        scheduled_minutes=None,
        latitude=37.4419,
        longitude=-122.1430,
        heading=184,
        location_name="Home",
        odometer_mi=12_483.6,
        inside_temp=19.5,
        outside_temp=14.0,
        locked=True,
        **_cabin(now),
        command_signing="allowed",
        version=1,
        created_at=now,
    )


def _model_y(user_id: str, now: float, asleep_since: float) -> Vehicle:
    return Vehicle(
        id=_vehicle_id(),
        user_id=user_id,
        vin=vin("7SAYGDEE", "RA"),
        seed_slot=2,
        display_name="Roadrunner",
        car_type="modely",
        exterior_color="PearlWhite",
        battery_kwh=78.1,
        rated_range_mi=310.0,
        charger_voltage=230.0,
        max_amps=48,
        charging_amps=32,
        charge_limit=90,
        plugged_in=False,
        charging=False,
        charging_state="Disconnected",
        battery_level=64.0,
        state_at=asleep_since,
        last_active_at=asleep_since,
        awake_from=asleep_since,
        session_id=None,
        session_start_level=None,
        energy_added=11.2,
        scheduled_charging=True,
        scheduled_minutes=120,
        latitude=37.3947,
        longitude=-122.1503,
        heading=92,
        location_name="Office",
        odometer_mi=30_112.9,
        inside_temp=17.0,
        outside_temp=14.0,
        locked=True,
        **_cabin(asleep_since),
        command_signing="allowed",
        version=1,
        created_at=now,
    )


def _model_3_2025(user_id: str, now: float) -> Vehicle:
    """A newer Model 3 parked at home, unplugged: it takes only signed commands."""
    return replace(
        _model_3(user_id, now),
        id=_vehicle_id(),
        vin=vin("5YJ3E1EC", "SF"),
        seed_slot=3,
        display_name="Sparrow",
        exterior_color="UltraRed",
        battery_kwh=78.0,
        rated_range_mi=341.0,
        charging_amps=32,
        plugged_in=False,
        charging_state="Disconnected",
        battery_level=71.0,
        latitude=37.4425,
        longitude=-122.1421,
        heading=12,
        odometer_mi=2_318.4,
        inside_temp=20.0,
        command_signing="required",
    )


async def seed_vehicles(
    vehicles: Vehicles,
    users: Users,
    user_id: str,
    history: Callable[[list[Vehicle]], Awaitable[None]] | None = None,
) -> list[Vehicle]:
    """The user's seeded vehicles, created on the first call (the Model 3 starts charging).

    `history` is called with the vehicles just created, before the Model 3 starts charging:
    past sessions it stores list before the one that start opens."""
    await users.get(user_id)  # 404 for a user that does not exist
    for _ in range(5):
        # As stored, not as this process last heard: another instance may have just seeded.
        seeded = [v for v in await vehicles.reread(user_id) if v.seed_slot is not None]
        if seeded:
            return seeded
        now = vehicles.clock.now()
        # Parked and untouched for an hour longer than it takes to fall asleep.
        asleep_since = now - vehicles.policy.sleep_after - 3600
        model_3, model_y = _model_3(user_id, now), _model_y(user_id, now, asleep_since)
        signed_only = _model_3_2025(user_id, now)
        if await vehicles.add([model_3, model_y, signed_only]):
            if history is not None:
                await history([model_3, model_y, signed_only])
            return [await vehicles.start_charging(model_3), model_y, signed_only]
        # A VIN was taken (retry with new serials) or a concurrent call seeded this user.
    raise Conflict("could not seed vehicles for this user; try again")
