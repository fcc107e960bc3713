"""The evaluators as pure state machines: jitter around a threshold fires once per real
crossing, a delta over a window (idle drain), charging stopped below its target, a faulted
connector; and a machine restored from its saved state carries on exactly as one that never
stopped."""

from __future__ import annotations

import random
from typing import Literal

import orjson

from voltgate.alerts.machines import Alert, Machine, machine_for
from voltgate.alerts.rules import (
    ConnectorFaulted,
    Delta,
    Rule,
    Spec,
    StoppedBelowTarget,
    Threshold,
)
from voltgate.alerts.signals import CHARGERS, VEHICLES, Signal, in_order

VIN = "5YJ3E1EA7KF000001"
SAMPLES = 10_000
CYCLE = 1_250  # low plateau, ramp up, high plateau, ramp down
LOW, HIGH, LINE = 70.0, 90.0, 80.0
NOISE = 0.8  # jitter amplitude: ±0.8 around the signal, narrower than the hysteresis band


def _rule(spec: Spec, target: str = VEHICLES) -> Rule:
    return Rule("alrr_test", "vgc_test_app", target, "", spec, (), 0.0)


def _feed(machine: Machine, signals: list[Signal]) -> list[Alert]:
    fired: list[Alert] = []
    for signal in signals:
        fired += machine.feed(signal)
    return fired


def _base(i: int, direction: Literal["up", "down"]) -> float:
    """The real signal: plateaus far from the line joined by slow ramps through it."""
    phase = i % CYCLE
    low, high = (LOW, HIGH) if direction == "up" else (HIGH, LOW)
    if phase < 400:
        return low
    if phase < 625:
        return low + (high - low) * (phase - 400) / 225
    if phase < 1025:
        return high
    return high + (low - high) * (phase - 1025) / 225


def _jittering(direction: Literal["up", "down"], seed: int = 16) -> tuple[list[Signal], int]:
    """10,000 samples, one a second, of the real signal plus seeded noise; and how many times
    the real signal crosses the line in `direction`."""
    noise = random.Random(seed)
    signals = [
        Signal(VIN, "InsideTemp", 1_000.0 + i, _base(i, direction) + noise.uniform(-NOISE, NOISE))
        for i in range(SAMPLES)
    ]
    past = [(_base(i, direction) > LINE) == (direction == "up") for i in range(SAMPLES)]
    real = sum(1 for i in range(1, SAMPLES) if past[i] and not past[i - 1])
    return signals, real


def _naive(signals: list[Signal], op: str) -> int:
    """What a check of each sample against the line alone would count."""
    above = [s.value > LINE if op == "above" else s.value < LINE for s in signals]  # type: ignore[operator]
    return sum(1 for i in range(1, len(above)) if above[i] and not above[i - 1])


def test_a_jittering_signal_fires_once_per_real_crossing_above() -> None:
    signals, real = _jittering("up")
    assert real == SAMPLES // CYCLE == 8
    assert _naive(signals, "above") > 3 * real  # the noise does cross the line many times
    machine = machine_for(_rule(Threshold("InsideTemp", "above", LINE, hysteresis=2.0)), VIN)
    fired = _feed(machine, signals)
    assert len(fired) == real
    # Each on the way up, in a different cycle, with the value that crossed.
    cycles = [int(a.fired_at - 1_000.0) // CYCLE for a in fired]
    assert cycles == list(range(real))
    for alert in fired:
        assert 400 <= (alert.fired_at - 1_000.0) % CYCLE < 625
        assert isinstance(alert.value, float) and alert.value > LINE
        assert alert.details["threshold"] == LINE and alert.kind == "threshold"


def test_a_jittering_signal_fires_once_per_real_crossing_below_after_its_duration() -> None:
    signals, real = _jittering("down", seed=4)
    assert real == 8 and _naive(signals, "below") > 3 * real
    spec = Threshold("InsideTemp", "below", LINE, hysteresis=2.0, for_seconds=30.0)
    fired = _feed(machine_for(_rule(spec), VIN), signals)
    assert len(fired) == real
    for alert in fired:
        # Held below the line for 30 s: fired at least 30 s after it went below for good.
        assert alert.fired_at - alert.details["past_since"] >= 30.0
        assert alert.details["past_since"] <= alert.fired_at
        assert isinstance(alert.value, float) and alert.value < LINE


def test_without_hysteresis_the_same_jitter_would_fire_repeatedly() -> None:
    signals, real = _jittering("up")
    fired = _feed(machine_for(_rule(Threshold("InsideTemp", "above", LINE)), VIN), signals)
    assert len(fired) == _naive(signals, "above") > 3 * real


def test_a_threshold_fires_only_after_holding_past_it_and_a_deadline_fires_on_tick() -> None:
    spec = Threshold("Soc", "above", 90.0, hysteresis=1.0, for_seconds=60.0)
    machine = machine_for(_rule(spec), VIN)
    assert _feed(machine, [Signal(VIN, "Soc", 0.0, 91.0), Signal(VIN, "Soc", 30.0, 89.5)]) == []
    assert _feed(machine, [Signal(VIN, "Soc", 40.0, 92.0)]) == []  # pending again from 40
    assert machine.deadline() == 100.0
    assert machine.tick(100.0) == []  # the grace for a late signal has not passed
    fired = machine.tick(200.0)  # nothing new arrived: the value held
    assert [(a.fired_at, a.value) for a in fired] == [(100.0, 92.0)]
    assert machine.deadline() is None and machine.tick(1_000.0) == []


def _drain(start: float, level: float, per_hour: float, hours: int) -> list[Signal]:
    """BatteryLevel every 5 minutes, falling `per_hour` percent an hour, with a little noise."""
    noise = random.Random(7)
    return [
        Signal(
            VIN,
            "BatteryLevel",
            start + i * 300.0,
            level - per_hour * i / 12 + noise.uniform(-0.05, 0.05),
        )
        for i in range(hours * 12)
    ]


def test_idle_drain_fires_once_per_idle_spell_and_not_while_charging() -> None:
    spec = Delta("BatteryLevel", "fall", by=3.0, window_seconds=86_400.0, while_not_charging=True)
    machine = machine_for(_rule(spec), VIN)
    first = _drain(0.0, 80.0, 0.2, 72)  # 4.8 % a day, for three days
    fired = _feed(machine, first)
    assert len(fired) == 1
    # 3 % at 0.2 %/h is 15 h in (the window's buckets and the noise move it a little).
    assert 14 * 3_600 <= fired[0].fired_at <= 16 * 3_600
    assert fired[0].details["change"] > 3.0 and fired[0].details["direction"] == "fall"
    charging = [
        Signal(VIN, "ChargeState", 72 * 3_600.0, "Charging"),
        *[Signal(VIN, "BatteryLevel", 72 * 3_600.0 + i * 60, 60.0 + i) for i in range(30)],
        Signal(VIN, "ChargeState", 73 * 3_600.0, "Complete"),
    ]
    assert _feed(machine, charging) == []  # a rising level while charging is not watched
    again = _feed(machine, _drain(73 * 3_600.0, 90.0, 0.2, 48))
    assert len(again) == 1 and again[0].fired_at > 73 * 3_600.0


def test_a_slow_drain_never_fires() -> None:
    spec = Delta("BatteryLevel", "fall", by=3.0, window_seconds=86_400.0, while_not_charging=True)
    assert _feed(machine_for(_rule(spec), VIN), _drain(0.0, 80.0, 0.1, 96)) == []  # 2.4 %/day


def test_a_rise_within_its_window() -> None:
    spec = Delta("InsideTemp", "rise", by=10.0, window_seconds=600.0)
    machine = machine_for(_rule(spec), VIN)
    slow = [Signal(VIN, "InsideTemp", i * 60.0, 20.0 + i * 0.5) for i in range(60)]  # 5 °C/10 min
    assert _feed(machine, slow) == []
    fast = [Signal(VIN, "InsideTemp", 3_600.0 + i * 60.0, 50.0 + i * 3.0) for i in range(6)]
    fired = _feed(machine, fast)
    assert len(fired) == 1 and fired[0].details["direction"] == "rise"


def test_charging_stopped_below_target() -> None:
    machine = machine_for(_rule(StoppedBelowTarget()), VIN)
    at = 0.0

    def payload(**fields: object) -> list[Signal]:
        """One payload's values, as the engine orders them (the charging state last)."""
        nonlocal at
        at += 60.0
        sent = [Signal(VIN, name, at, value) for name, value in fields.items()]  # type: ignore[arg-type]
        return in_order(sent)[VIN]

    assert _feed(machine, payload(ChargeState="Charging", Soc=55.0, ChargeLimitSoc=80.0)) == []
    assert _feed(machine, payload(Soc=60.0)) == []
    fired = _feed(machine, payload(ChargeState="Stopped", Soc=61.0))
    assert len(fired) == 1
    assert fired[0].value == 61.0
    assert fired[0].details == {"soc": 61.0, "charge_limit_soc": 80.0, "charge_state": "Stopped"}
    assert _feed(machine, payload(ChargeState="Stopped")) == []  # not charging: nothing stopped
    assert _feed(machine, payload(ChargeState="Charging")) == []
    assert _feed(machine, payload(Soc=80.0)) == []
    assert _feed(machine, payload(ChargeState="Complete")) == []  # reached its target
    # Fleet Telemetry's enum spelling, and a margin.
    margin = machine_for(_rule(StoppedBelowTarget(margin=5.0)), VIN)
    start = payload(
        DetailedChargeState="DetailedChargeStateCharging", Soc=76.0, ChargeLimitSoc=80.0
    )
    assert _feed(margin, start) == []
    assert _feed(margin, payload(DetailedChargeState="DetailedChargeStateStopped")) == []
    assert _feed(margin, payload(DetailedChargeState="DetailedChargeStateCharging", Soc=70.0)) == []
    stopped = _feed(margin, payload(DetailedChargeState="DetailedChargeStateStopped"))
    assert [a.value for a in stopped] == [70.0]


def test_a_connector_becoming_faulted() -> None:
    subject = "vgc_test_charger:1"
    machine = machine_for(_rule(ConnectorFaulted(), CHARGERS), subject)
    states = ["available", "charging", "faulted", "faulted", "unavailable", "faulted", "faulted"]
    fired = _feed(machine, [Signal(subject, "state", float(i), s) for i, s in enumerate(states)])
    assert [(a.fired_at, a.value, a.details["previous_state"]) for a in fired] == [
        (2.0, "faulted", "charging"),
        (5.0, "faulted", "unavailable"),
    ]
    # Power readings of the same connector do not disturb it.
    assert _feed(machine, [Signal(subject, "power", 9.0, 0.0)]) == []


def _restored_midway(
    spec: Spec, signals: list[Signal], cuts: list[int], target: str = VEHICLES
) -> list[Alert]:
    """Feed `signals`, saving the machine's state at each cut and carrying on in a new machine
    restored from it (a restart)."""
    rule = _rule(spec, target)
    subject = signals[0].subject
    machine = machine_for(rule, subject)
    fired: list[Alert] = []
    last = 0
    for cut in [*cuts, len(signals)]:
        fired += _feed(machine, signals[last:cut])
        saved = orjson.dumps(machine.state())
        machine = machine_for(rule, subject)
        machine.restore(orjson.loads(saved))
        last = cut
    return fired


def test_a_restored_machine_carries_on_as_if_it_never_stopped() -> None:
    signals, _ = _jittering("up")
    cuts = sorted(random.Random(3).sample(range(1, SAMPLES), 40))
    cases: list[tuple[Spec, list[Signal]]] = [
        (Threshold("InsideTemp", "above", LINE, hysteresis=2.0), signals),
        (Threshold("InsideTemp", "above", LINE, hysteresis=2.0, for_seconds=30.0), signals),
        (Delta("InsideTemp", "rise", by=15.0, window_seconds=600.0), signals),
    ]
    for spec, series in cases:
        whole = _feed(machine_for(_rule(spec), VIN), series)
        assert whole, spec
        assert _restored_midway(spec, series, cuts) == whole, spec
    drain = _drain(0.0, 80.0, 0.2, 72)
    spec = Delta("BatteryLevel", "fall", by=3.0, window_seconds=86_400.0, while_not_charging=True)
    whole = _feed(machine_for(_rule(spec), VIN), drain)
    assert _restored_midway(spec, drain, list(range(10, len(drain), 10))) == whole
