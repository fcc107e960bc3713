"""Request bodies and views of the alerts API (`/v1/alerts`, `/v1/alerts/rules`).

A rule is created from one flat body whose `kind` says which parameters it takes; the service
refuses a parameter the kind does not take and names one it lacks (`service.build_spec`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from voltgate.alerts.rules import KINDS, Rule, spec_json
from voltgate.alerts.store import StoredAlert
from voltgate.pagination import DEFAULT_LIMIT, MAX_SIZE

# Fleet Telemetry's numeric vehicle fields a threshold or delta may watch.
VEHICLE_NUMBERS = frozenset(
    {
        "ACChargingEnergyIn",
        "ACChargingPower",
        "BatteryLevel",
        "BrickVoltageMax",
        "BrickVoltageMin",
        "ChargeAmps",
        "ChargeCurrentRequest",
        "ChargeCurrentRequestMax",
        "ChargeLimitSoc",
        "ChargerPhases",
        "ChargerVoltage",
        "DCChargingEnergyIn",
        "DCChargingPower",
        "EnergyRemaining",
        "EstBatteryRange",
        "IdealBatteryRange",
        "InsideTemp",
        "LifetimeEnergyUsed",
        "ModuleTempMax",
        "ModuleTempMin",
        "Odometer",
        "OutsideTemp",
        "PackCurrent",
        "PackVoltage",
        "RatedRange",
        "Soc",
        "TimeToFullCharge",
        "TpmsPressureFl",
        "TpmsPressureFr",
        "TpmsPressureRl",
        "TpmsPressureRr",
        "VehicleSpeed",
    }
)
MAX_MAGNITUDE = 1e12
MAX_SUBJECTS = 100
Subject = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
]
Number = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["threshold", "delta", "charging_stopped_below_target", "connector_faulted"]
    name: str = Field(default="", max_length=200)
    target: Literal["vehicles", "chargers"] | None = Field(
        default=None,
        description="what the rule watches; by default the app's own: a third-party app's "
        "consented vehicles, an operator's chargers",
    )
    subjects: list[Subject] = Field(
        default_factory=list,
        max_length=MAX_SUBJECTS,
        description="only these VINs, charger ids or `<device_id>:<connector>` (default: all)",
    )
    field: str | None = Field(default=None, max_length=64, description="threshold, delta")
    op: Literal["above", "below"] | None = Field(default=None, description="threshold")
    value: Number | None = Field(default=None, description="threshold")
    hysteresis: Number | None = Field(
        default=None, ge=0, description="threshold: re-arms once back past value ∓ this"
    )
    for_seconds: float | None = Field(
        default=None, ge=0, le=7 * 86_400, description="threshold: held past it this long"
    )
    direction: Literal["fall", "rise"] | None = Field(default=None, description="delta")
    by: Number | None = Field(default=None, gt=0, description="delta: more than this change")
    window_seconds: float | None = Field(
        default=None, ge=60, le=30 * 86_400, description="delta: within this window"
    )
    while_not_charging: bool | None = Field(default=None, description="delta")
    margin: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="charging_stopped_below_target: Soc below ChargeLimitSoc by more than this",
    )


class RuleView(TypedDict):
    id: str
    kind: str
    target: str
    name: str
    subjects: list[str]
    params: dict[str, Any]
    created_at: float


class RuleList(TypedDict):
    items: list[RuleView]


class AlertView(TypedDict):
    id: str
    rule_id: str
    kind: str
    subject: str
    fired_at: float
    value: Any
    details: dict[str, Any]


class AlertQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_SIZE, description="at most 100")
    cursor: str | None = Field(
        default=None, max_length=400, description="`next_cursor` of the previous response"
    )
    after: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^alr_[0-9a-z]{26}$",
        description="an alert id: only alerts after it (polling from the last one seen)",
    )


def rule_view(rule: Rule) -> RuleView:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "target": rule.target,
        "name": rule.name,
        "subjects": list(rule.subjects),
        "params": spec_json(rule.spec),
        "created_at": rule.created_at,
    }


def alert_view(alert: StoredAlert) -> AlertView:
    return {
        "id": alert.id,
        "rule_id": alert.rule_id,
        "kind": alert.kind,
        "subject": alert.subject,
        "fired_at": alert.fired_at,
        "value": list(alert.value) if isinstance(alert.value, tuple) else alert.value,
        "details": alert.details,
    }


__all__ = ["KINDS", "AlertQuery", "AlertView", "RuleCreate", "RuleList", "RuleView"]
