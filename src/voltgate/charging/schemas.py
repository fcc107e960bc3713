"""Request bodies and response views of the charging-records API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from typing_extensions import TypedDict

from voltgate.charging.aggregate import EnergyReport
from voltgate.charging.store import ChargingRecord

MAX_METER_VALUES = 2_000
TransactionId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.:-]*$"
    ),
]
Kwh = Annotated[float, Field(ge=0, le=1e9)]


def seconds(value: datetime) -> float:
    """Unix seconds; a date-time without an offset is UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class MeterValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime = Field(description="Unix seconds or RFC 3339")
    energy_kwh: Kwh
    power_kw: float | None = Field(default=None, ge=-1_000, le=1_000)
    soc: float | None = Field(default=None, ge=0, le=100)

    def view(self) -> dict[str, Any]:
        """As stored with its record (and shown as `MeterValueView`)."""
        return {
            "at": seconds(self.at),
            "energy_kwh": self.energy_kwh,
            "power_kw": self.power_kw,
            "soc": self.soc,
        }


class RecordIn(BaseModel):
    """`POST /v1/device/charging-records`: a session as the charger saw it. Send it when the
    session starts (no `stopped_at`) and again when it stops; the same transaction id updates
    the open record, and a repeat of a stopped one is answered with the stored record."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: TransactionId
    connector: int = Field(ge=1)
    started_at: datetime = Field(description="Unix seconds or RFC 3339")
    stopped_at: datetime | None = Field(default=None, description="absent while charging")
    energy_kwh: Kwh
    meter_start: Kwh | None = None
    meter_stop: Kwh | None = None
    meter_values: list[MeterValue] = Field(default_factory=list, max_length=MAX_METER_VALUES)

    @model_validator(mode="after")
    def _ordered(self) -> RecordIn:
        if self.stopped_at is not None and seconds(self.stopped_at) < seconds(self.started_at):
            raise ValueError("stopped_at is before started_at")
        if (
            self.meter_start is not None
            and self.meter_stop is not None
            and self.meter_stop < self.meter_start
        ):
            raise ValueError("meter_stop is below meter_start")
        return self


class MeterValueView(TypedDict):
    at: float
    energy_kwh: float
    power_kw: float | None
    soc: float | None


class RecordView(TypedDict):
    id: str
    device_id: str
    transaction_id: str
    connector: int
    started_at: float
    stopped_at: float | None
    energy_kwh: float
    meter_start: float | None
    meter_stop: float | None
    meter_values: list[MeterValueView]
    created_at: int
    updated_at: int


class EnergyBucketView(TypedDict):
    period: str
    start: float
    energy_kwh: float
    sessions: int


# `from` and `to` are Python keywords: the functional form.
EnergyReportView = TypedDict(
    "EnergyReportView",
    {
        "granularity": str,
        "timezone": str,
        "timezones": list[str],
        "from": float,
        "to": float,
        "counted_by": str,
        "buckets": list[EnergyBucketView],
        "total_energy_kwh": float,
        "total_sessions": int,
    },
)


def record_view(record: ChargingRecord) -> RecordView:
    return {
        "id": record.id,
        "device_id": record.device_id,
        "transaction_id": record.transaction_id,
        "connector": record.connector,
        "started_at": record.started_at,
        "stopped_at": record.stopped_at,
        "energy_kwh": record.energy_kwh,
        "meter_start": record.meter_start,
        "meter_stop": record.meter_stop,
        "meter_values": cast("list[MeterValueView]", list(record.meter_values)),
        "created_at": int(record.created_at),
        "updated_at": int(record.updated_at),
    }


def report_view(report: EnergyReport) -> EnergyReportView:
    return {
        "granularity": report.granularity.value,
        "timezone": report.timezone,
        "timezones": list(report.timezones),
        "from": report.start,
        "to": report.end,
        # Each session counts, whole, in the period its started_at falls in.
        "counted_by": "started_at",
        "buckets": [
            {
                "period": b.period,
                "start": b.start,
                "energy_kwh": b.energy_kwh,
                "sessions": b.sessions,
            }
            for b in report.buckets
        ],
        "total_energy_kwh": report.total_energy_kwh,
        "total_sessions": report.total_sessions,
    }
