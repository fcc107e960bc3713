"""Rules: what an app asks to be alerted of, as plain records (stored as JSON, evaluated by
`machines.py`).

- `threshold`: a field goes past `value` (`op` above or below) and stays past it for
  `for_seconds`; it fires again only after the field came back past `value ∓ hysteresis`.
- `delta`: a field changed by more than `by` within `window_seconds` (`direction` fall or
  rise), optionally only while not charging (idle drain: BatteryLevel falls more than 3 % a day).
- `charging_stopped_below_target`: the charging state leaves Charging while Soc is below
  ChargeLimitSoc (less `margin`).
- `connector_faulted`: a charger connector's state becomes `faulted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

from voltgate.alerts.signals import CHARGER_STATE, CHARGERS, VEHICLE_CHARGE_FIELDS

THRESHOLD = "threshold"
DELTA = "delta"
STOPPED_BELOW_TARGET = "charging_stopped_below_target"
CONNECTOR_FAULTED = "connector_faulted"
KINDS = (THRESHOLD, DELTA, STOPPED_BELOW_TARGET, CONNECTOR_FAULTED)


def charge_fields(target: str) -> frozenset[str]:
    return frozenset({CHARGER_STATE}) if target == CHARGERS else VEHICLE_CHARGE_FIELDS


@dataclass(frozen=True, slots=True)
class Threshold:
    kind: ClassVar[str] = THRESHOLD
    field: str
    op: Literal["above", "below"]
    value: float
    hysteresis: float = 0.0
    for_seconds: float = 0.0

    def fields(self, _target: str) -> frozenset[str]:
        return frozenset({self.field})


@dataclass(frozen=True, slots=True)
class Delta:
    kind: ClassVar[str] = DELTA
    field: str
    direction: Literal["fall", "rise"]
    by: float
    window_seconds: float
    while_not_charging: bool = False

    def fields(self, target: str) -> frozenset[str]:
        if self.while_not_charging:
            return charge_fields(target) | {self.field}
        return frozenset({self.field})


@dataclass(frozen=True, slots=True)
class StoppedBelowTarget:
    kind: ClassVar[str] = STOPPED_BELOW_TARGET
    margin: float = 0.0

    def fields(self, _target: str) -> frozenset[str]:
        return VEHICLE_CHARGE_FIELDS | {"Soc", "ChargeLimitSoc"}


@dataclass(frozen=True, slots=True)
class ConnectorFaulted:
    kind: ClassVar[str] = CONNECTOR_FAULTED

    def fields(self, _target: str) -> frozenset[str]:
        return frozenset({CHARGER_STATE})


Spec = Threshold | Delta | StoppedBelowTarget | ConnectorFaulted
_SPECS: dict[str, type[Spec]] = {
    THRESHOLD: Threshold,
    DELTA: Delta,
    STOPPED_BELOW_TARGET: StoppedBelowTarget,
    CONNECTOR_FAULTED: ConnectorFaulted,
}


def spec_json(spec: Spec) -> dict[str, Any]:
    return asdict(spec)


def spec_from(kind: str, data: Mapping[str, Any]) -> Spec:
    return _SPECS[kind](**data)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    client_id: str  # the app
    target: str  # vehicles | chargers
    name: str
    spec: Spec
    subjects: tuple[str, ...]  # VINs, charger ids or "<device_id>:<connector>"; () for all
    created_at: float

    @property
    def kind(self) -> str:
        return self.spec.kind

    def covers(self, subject: str) -> bool:
        """Whether the rule's own subject list lets it see `subject` (the app's access is
        checked apart)."""
        if not self.subjects:
            return True
        return subject in self.subjects or subject.partition(":")[0] in self.subjects
