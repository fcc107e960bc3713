"""Request bodies of the command channel (Tellus field names; the views are the dialect's).

Each connector command's body is one model carrying its command type, whether it is sensitive
(signed when the client signs) and how long it may wait for delivery. Checks that need the
device (the connector's maximum power, the vehicle's state of charge) are the service's.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from voltgate.devices.schemas import MAX_CONNECTOR_KW, ConnectorType
from voltgate.devices.store import MAX_CONNECTORS
from voltgate.sites.schemas import is_timezone
from voltgate.telemetry.store import State

IMMEDIATE = 300  # seconds an immediate command may wait for its charger
SCHEDULE_WINDOW = 86_400  # a schedule still applies when delivered later
MAX_DURATION = 7 * 86_400
MAX_POWER_KW = 1_000.0
MAX_SLOTS = 48

Seconds = Annotated[int, Field(gt=0, le=MAX_DURATION, description="seconds")]
Power = Annotated[float, Field(gt=0, le=MAX_POWER_KW, description="kW")]
Percent = Annotated[float, Field(ge=0, le=100)]
TransactionId = Annotated[str, Field(min_length=1, max_length=64)]
_HH_MM = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")


def _time_of_day(value: str) -> str:
    if not _HH_MM.match(value):
        raise PydanticCustomError("invalid", "must be a time of day HH:MM, 00:00 to 24:00")
    return value


TimeOfDay = Annotated[str, Field(description="HH:MM"), AfterValidator(_time_of_day)]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NAMES = {
    **dict(zip(_WEEKDAYS, _WEEKDAYS, strict=True)),
    **dict(zip(_FULL, _WEEKDAYS, strict=True)),
}


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorCommand(Body):
    kind: ClassVar[str]
    sensitive: ClassVar[bool] = False
    window: ClassVar[int] = IMMEDIATE

    def powers(self) -> list[tuple[str, float]]:
        """(field, kW) pairs the connector's maximum bounds."""
        return []

    def soc_floor(self) -> float | None:
        """A state of charge the vehicle must be above for this command."""
        return None


class StartCharging(ConnectorCommand):
    kind = "start"
    charge_power: Power
    duration: Seconds
    target_soc: Percent
    transaction_id: TransactionId | None = None

    def powers(self) -> list[tuple[str, float]]:
        return [("charge_power", self.charge_power)]


class StopCharging(ConnectorCommand):
    kind = "stop"
    transaction_id: TransactionId | None = None


class Discharge(ConnectorCommand):
    """V2G: feed the vehicle's battery back to the grid, never below `min_soc`."""

    kind = "discharge"
    sensitive = True
    discharge_power: Power
    duration: Seconds
    min_soc: Percent

    def powers(self) -> list[tuple[str, float]]:
        return [("discharge_power", self.discharge_power)]

    def soc_floor(self) -> float | None:
        return self.min_soc


class TimeSlot(Body):
    start: TimeOfDay
    end: TimeOfDay
    power: Power | None = None
    # weekly: a weekday (mon…sun, monday…, or ISO 1-7); once: a date (YYYY-MM-DD); daily: none.
    day: str | int | None = None

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise _invalid(f"a slot must end after it starts ({start}-{end})")
        return end


def _weekday(day: str | int | None) -> str:
    if isinstance(day, int) and 1 <= day <= 7:
        return _WEEKDAYS[day - 1]
    if isinstance(day, str) and day.strip().lower() in _DAY_NAMES:
        return _DAY_NAMES[day.strip().lower()]
    raise _invalid("a weekly slot needs day: mon…sun, monday…sunday or ISO 1-7")


class Schedule(ConnectorCommand):
    kind = "schedule"
    window = SCHEDULE_WINDOW
    type: Literal["once", "daily", "weekly"]
    time_slots: list[TimeSlot] = Field(min_length=1, max_length=MAX_SLOTS)
    target_soc: Percent | None = None
    timezone: str = Field(max_length=64)

    @field_validator("time_slots")
    @classmethod
    def _days_and_overlaps(cls, slots: list[TimeSlot], info: ValidationInfo) -> list[TimeSlot]:
        kind = info.data.get("type")
        for slot in slots:
            if kind == "weekly":
                slot.day = _weekday(slot.day)
            elif kind == "daily" and slot.day is not None:
                raise _invalid("a daily schedule's slots take no day")
            elif kind == "once" and slot.day is not None:
                try:
                    slot.day = date.fromisoformat(str(slot.day)).isoformat()
                except ValueError:
                    raise _invalid("a once schedule's day is a date (YYYY-MM-DD)") from None
        order = sorted(range(len(slots)), key=lambda i: (str(slots[i].day), slots[i].start))
        for a, b in itertools.pairwise(order):
            first, second = slots[a], slots[b]
            if first.day == second.day and second.start < first.end:
                raise _invalid(
                    f"time_slots {a} and {b} overlap ({first.start}-{first.end} and "
                    f"{second.start}-{second.end})"
                )
        return slots

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_timezone(value):
            raise _invalid(f"unknown time zone {value[:64]!r}: use an IANA name (Europe/Berlin)")
        return value

    def powers(self) -> list[tuple[str, float]]:
        return [
            (f"time_slots[{i}].power", slot.power)
            for i, slot in enumerate(self.time_slots)
            if slot.power is not None
        ]


class FlexibilityParams(Body):
    power_limit_percent: Percent | None = None
    duration: Seconds
    reason: str | None = Field(default=None, max_length=200)


class Flexibility(Body):
    """Curtail many chargers at once: one command per targeted device of the operator."""

    window: ClassVar[int] = IMMEDIATE
    target_type: Literal["site", "operator", "all"]
    target_id: str | None = Field(default=None, max_length=64, validate_default=True)
    command: Literal["set_power_limit", "pause_charging"]
    params: FlexibilityParams

    @field_validator("target_id")
    @classmethod
    def _site_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("target_type") == "site" and not value:
            raise _invalid("target_type site needs target_id: the site's id")
        return value

    @field_validator("params")
    @classmethod
    def _limit_for_its_command(
        cls, params: FlexibilityParams, info: ValidationInfo
    ) -> FlexibilityParams:
        command = info.data.get("command")
        limit = params.power_limit_percent
        if command == "set_power_limit" and limit is None:
            raise _invalid("set_power_limit needs params.power_limit_percent (0-100)")
        if command == "pause_charging" and limit is not None:
            raise _invalid("pause_charging takes no power_limit_percent")
        return params


class ConnectorState(Body):
    connector: int = Field(ge=1, le=MAX_CONNECTORS)
    state: State
    soc: Percent | None = None
    # A charger registered without connectors learns each one it names, with these if given.
    type: ConnectorType | None = None
    max_power_kw: float | None = Field(default=None, gt=0, le=MAX_CONNECTOR_KW)


class Heartbeat(Body):
    # Unknown fields are refused like everywhere: a misspelt `soc` ignored would let a
    # discharge pass the min_soc check.
    status: str | None = Field(default=None, max_length=32, pattern=r"^[^\x00-\x1f]*$")
    connectors: list[ConnectorState] = Field(default_factory=list, max_length=MAX_CONNECTORS)


class StatusReport(Body):
    command_id: str = Field(min_length=1, max_length=64)
    status: Literal["accepted", "rejected", "completed", "failed"]
    reason: str | None = Field(default=None, max_length=500)
