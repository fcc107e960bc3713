"""The evaluator of one rule for one subject: a pure, deterministic state machine.

`feed(signal)` returns the alerts that signal fires; `tick(now)` those a passing deadline fires
(a threshold held past its minimum duration while the subject sends nothing new, as Fleet
Telemetry does for a value that does not change). `state()` is a small JSON object and
`restore(state)` takes it back, so the engine persists it and a restart carries on where the
last committed state left off (`evaluator.py`). A signal older than the last one the machine
took is ignored, so a resend or a batch observed again cannot move it back in time.

Jitter does not fire: a threshold fires once when the value goes past it and re-arms only once
it has come back past the hysteresis band, so noise narrower than the band around the threshold
fires exactly once per real crossing; a delta re-arms only once the change over its window is
back within the bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from voltgate.alerts.rules import (
    ConnectorFaulted,
    Delta,
    Rule,
    StoppedBelowTarget,
    Threshold,
    charge_fields,
)
from voltgate.alerts.signals import Signal, Value, is_charging, number

# A deadline passed this long ago (by the server's clock) fires on its own; the grace lets a
# subject's next signal, possibly a little late, arrive first and decide.
TICK_GRACE = 5.0
# A delta's window is held as this many buckets (the extreme of each): the state stays small
# whatever the signal's rate, and the window is honoured to within one bucket.
BUCKETS = 64


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert a machine fired (the engine gives it an id and stores it)."""

    rule_id: str
    subject: str
    kind: str
    fired_at: float
    value: Value
    details: dict[str, Any] = field(default_factory=dict)


class Machine(Protocol):
    def feed(self, signal: Signal) -> list[Alert]: ...

    def deadline(self) -> float | None:
        """When `tick` may fire (signal time), if anything waits for time to pass."""

    def tick(self, now: float) -> list[Alert]: ...

    def state(self) -> dict[str, Any]: ...

    def restore(self, state: Mapping[str, Any]) -> None: ...


_ARMED, _PENDING, _FIRED = 0, 1, 2
# Before any signal. A signal older than the last one a machine took is ignored: a resend, or a
# batch observed again, cannot move the machine back in time.
_NEVER = -1.0e18
_STOPPED_FIELDS = frozenset({"Soc", "ChargeLimitSoc", "ChargeState", "DetailedChargeState"})


class ThresholdMachine:
    __slots__ = ("_at", "_phase", "_since", "_spec", "_subject", "_value", "rule_id")

    def __init__(self, rule_id: str, subject: str, spec: Threshold) -> None:
        self.rule_id = rule_id
        self._subject = subject
        self._spec = spec
        self._at = _NEVER
        self._phase = _ARMED
        self._since = 0.0  # when the value went past the threshold (pending)
        self._value: float | None = None

    def feed(self, signal: Signal) -> list[Alert]:
        spec = self._spec
        if signal.field != spec.field:
            return []
        value = number(signal.value)
        if value is None or signal.at < self._at:
            return []
        self._at = signal.at
        self._value = value
        above = spec.op == "above"
        if self._phase == _FIRED:
            back = spec.value - spec.hysteresis if above else spec.value + spec.hysteresis
            if (value <= back) if above else (value >= back):
                self._phase = _ARMED
            return []
        if not ((value > spec.value) if above else (value < spec.value)):
            self._phase = _ARMED
            return []
        if self._phase == _ARMED:
            self._phase, self._since = _PENDING, signal.at
        if signal.at - self._since >= spec.for_seconds:
            return self._fire(signal.at, value)
        return []

    def deadline(self) -> float | None:
        if self._phase != _PENDING or self._spec.for_seconds <= 0:
            return None
        return self._since + self._spec.for_seconds

    def tick(self, now: float) -> list[Alert]:
        due = self.deadline()
        if due is None or now < due + TICK_GRACE or self._value is None:
            return []
        return self._fire(due, self._value)

    def _fire(self, at: float, value: float) -> list[Alert]:
        spec = self._spec
        self._phase = _FIRED
        details = {
            "field": spec.field,
            "op": spec.op,
            "threshold": spec.value,
            "hysteresis": spec.hysteresis,
            "for_seconds": spec.for_seconds,
            "past_since": self._since if spec.for_seconds > 0 else at,
        }
        return [Alert(self.rule_id, self._subject, spec.kind, at, value, details)]

    def state(self) -> dict[str, Any]:
        return {"p": self._phase, "s": self._since, "v": self._value, "t": self._at}

    def restore(self, state: Mapping[str, Any]) -> None:
        self._at = float(state.get("t", _NEVER))
        self._phase = int(state.get("p", _ARMED))
        self._since = float(state.get("s", 0.0))
        held = state.get("v")
        self._value = None if held is None else float(held)


class DeltaMachine:
    __slots__ = (
        "_at",
        "_buckets",
        "_charge_fields",
        "_charging",
        "_fired",
        "_spec",
        "_subject",
        "rule_id",
    )

    def __init__(
        self, rule_id: str, subject: str, spec: Delta, charge_fields: frozenset[str]
    ) -> None:
        self.rule_id = rule_id
        self._subject = subject
        self._spec = spec
        self._charge_fields = charge_fields
        self._at = _NEVER
        self._buckets: list[list[float]] = []  # [start, extreme], oldest first
        self._charging = False
        self._fired = False

    def feed(self, signal: Signal) -> list[Alert]:
        spec = self._spec
        watched = signal.field == spec.field or (
            spec.while_not_charging and signal.field in self._charge_fields
        )
        if not watched or signal.at < self._at:
            return []
        self._at = signal.at
        if signal.field != spec.field:
            charging = is_charging(signal.value)
            if charging and not self._charging:
                self._buckets, self._fired = [], False  # charging refills: a new idle spell
            self._charging = charging
            return []
        if spec.while_not_charging and self._charging:
            return []
        value = number(signal.value)
        if value is None:
            return []
        length = spec.window_seconds / BUCKETS
        horizon = signal.at - spec.window_seconds
        buckets = self._buckets
        while buckets and buckets[0][0] + length <= horizon:
            del buckets[0]
        fall = spec.direction == "fall"
        change = 0.0
        if buckets:
            reference = max(b[1] for b in buckets) if fall else min(b[1] for b in buckets)
            change = reference - value if fall else value - reference
        self._add(math.floor(signal.at / length) * length, value, fall)
        if self._fired:
            if change <= spec.by:
                self._fired = False
            return []
        if change <= spec.by:
            return []
        self._fired = True
        details = {
            "field": spec.field,
            "direction": spec.direction,
            "change": round(change, 6),
            "from": round(value + change if fall else value - change, 6),
            "by": spec.by,
            "window_seconds": spec.window_seconds,
        }
        return [Alert(self.rule_id, self._subject, spec.kind, signal.at, value, details)]

    def _add(self, start: float, value: float, fall: bool) -> None:
        buckets = self._buckets  # in time order: signals older than the last are ignored
        if buckets and buckets[-1][0] == start:
            last = buckets[-1]
            last[1] = max(last[1], value) if fall else min(last[1], value)
            return
        buckets.append([start, value])
        del buckets[: max(0, len(buckets) - BUCKETS - 1)]

    def deadline(self) -> float | None:
        return None

    def tick(self, now: float) -> list[Alert]:
        return []

    def state(self) -> dict[str, Any]:
        buckets = [list(b) for b in self._buckets]
        return {"b": buckets, "c": self._charging, "f": self._fired, "t": self._at}

    def restore(self, state: Mapping[str, Any]) -> None:
        self._at = float(state.get("t", _NEVER))
        self._buckets = [[float(s), float(v)] for s, v in state.get("b", [])]
        self._charging = bool(state.get("c", False))
        self._fired = bool(state.get("f", False))


class StoppedBelowTargetMachine:
    __slots__ = ("_at", "_charging", "_limit", "_soc", "_spec", "_subject", "rule_id")

    def __init__(self, rule_id: str, subject: str, spec: StoppedBelowTarget) -> None:
        self.rule_id = rule_id
        self._subject = subject
        self._spec = spec
        self._at = _NEVER
        self._charging: bool | None = None
        self._soc: float | None = None
        self._limit: float | None = None

    def feed(self, signal: Signal) -> list[Alert]:
        name = signal.field
        if name not in _STOPPED_FIELDS or signal.at < self._at:
            return []
        self._at = signal.at
        if name == "Soc":
            self._soc = number(signal.value) if signal.value is not None else self._soc
            return []
        if name == "ChargeLimitSoc":
            self._limit = number(signal.value) if signal.value is not None else self._limit
            return []
        if signal.value is None:
            return []
        was, self._charging = self._charging, is_charging(signal.value)
        soc, limit = self._soc, self._limit
        if not was or self._charging or soc is None or limit is None:
            return []
        if soc >= limit - self._spec.margin:
            return []
        details = {"soc": soc, "charge_limit_soc": limit, "charge_state": str(signal.value)}
        return [Alert(self.rule_id, self._subject, self._spec.kind, signal.at, soc, details)]

    def deadline(self) -> float | None:
        return None

    def tick(self, now: float) -> list[Alert]:
        return []

    def state(self) -> dict[str, Any]:
        return {"c": self._charging, "soc": self._soc, "lim": self._limit, "t": self._at}

    def restore(self, state: Mapping[str, Any]) -> None:
        self._at = float(state.get("t", _NEVER))
        charging = state.get("c")
        self._charging = None if charging is None else bool(charging)
        self._soc = _float_or_none(state.get("soc"))
        self._limit = _float_or_none(state.get("lim"))


class ConnectorFaultedMachine:
    __slots__ = ("_at", "_last", "_spec", "_subject", "rule_id")

    def __init__(self, rule_id: str, subject: str, spec: ConnectorFaulted) -> None:
        self.rule_id = rule_id
        self._subject = subject
        self._spec = spec
        self._at = _NEVER
        self._last: str | None = None

    def feed(self, signal: Signal) -> list[Alert]:
        if signal.field != "state" or not isinstance(signal.value, str) or signal.at < self._at:
            return []
        self._at = signal.at
        was, self._last = self._last, signal.value
        if signal.value != "faulted" or was == "faulted":
            return []
        details = {"previous_state": was}
        return [Alert(self.rule_id, self._subject, self._spec.kind, signal.at, "faulted", details)]

    def deadline(self) -> float | None:
        return None

    def tick(self, now: float) -> list[Alert]:
        return []

    def state(self) -> dict[str, Any]:
        return {"st": self._last, "t": self._at}

    def restore(self, state: Mapping[str, Any]) -> None:
        self._at = float(state.get("t", _NEVER))
        last = state.get("st")
        self._last = None if last is None else str(last)


def machine_for(rule: Rule, subject: str) -> Machine:
    spec = rule.spec
    if isinstance(spec, Threshold):
        return ThresholdMachine(rule.id, subject, spec)
    if isinstance(spec, Delta):
        return DeltaMachine(rule.id, subject, spec, charge_fields(rule.target))
    if isinstance(spec, StoppedBelowTarget):
        return StoppedBelowTargetMachine(rule.id, subject, spec)
    return ConnectorFaultedMachine(rule.id, subject, spec)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
