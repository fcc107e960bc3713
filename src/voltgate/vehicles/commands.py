"""What a vehicle command is (`POST /api/1/vehicles/{id}/command/{name}`): its name, the scopes
that may send it, its body, and how it turns the vehicle as of now into its next state. The
commands themselves are in `charging.py`, `cabin.py` and `schedules.py`, listed by `catalog.py`.

Each command validates its body (strict JSON types, ranges, unknown fields refused), may check
it against the vehicle (`charging_amps` up to the vehicle's maximum), and runs on the vehicle
as of now. A command the vehicle cannot carry out is answered `result: false` with a reason
(`complete`, `disconnected`, `is_charging`, `not_charging`, `already_set`, …).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from voltgate.errors import ValidationFailed
from voltgate.vehicles.store import SessionEnd, SessionStart, Vehicle

B = TypeVar("B", bound=BaseModel)

# Tesla's endpoint reference lists every command under `vehicle_cmds`; its scope table gives
# `vehicle_charging_cmds` the charging ones ("commands to schedule, and start/stop charging").
VEHICLE = ("vehicle_cmds",)
CHARGING = ("vehicle_charging_cmds", "vehicle_cmds")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoBody(Body):
    pass


@dataclass(frozen=True, slots=True)
class Outcome:
    result: bool
    reason: str
    vehicle: Vehicle
    ends: tuple[SessionEnd, ...] = ()
    start: SessionStart | None = None


def done(vehicle: Vehicle) -> Outcome:
    return Outcome(True, "", vehicle)


def refused(vehicle: Vehicle, reason: str) -> Outcome:
    return Outcome(False, reason, vehicle)


@dataclass(frozen=True, slots=True)
class Command(Generic[B]):
    name: str
    scopes: tuple[str, ...]  # any one of them lets a token send the command
    body: type[B]
    run: Callable[[Vehicle, B, float], Outcome]
    check: Callable[[Vehicle, B], None] | None = None

    def parse(self, raw: dict[str, Any]) -> B:
        try:
            return self.body.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = first.get("msg", "invalid").removeprefix("Value error, ")
            raise ValidationFailed(
                f"{self.name}: {where + ': ' if where else ''}{message}"[:300]
            ) from None
