"""Pulse's rules on stream frames and its own clock (no server): what it sends and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from voltgate.pulse.config import Rules, distance_m, in_window
from voltgate.pulse.rules import Engine
from voltgate.pulse.store import PulseStore

HOME = (48.1374, 11.5755)
VIN = "5YJ3E7EB2NF000001"
MONDAY_8 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC).timestamp()
SATURDAY_8 = datetime(2026, 12, 12, 8, 0, tzinfo=UTC).timestamp()


class Sent(list[tuple[str, str, dict[str, Any]]]):
    async def __call__(self, vin: str, name: str, body: dict[str, Any]) -> None:
        self.append((vin, name, body))


def _engine(tmp_path: Path, **rules: Any) -> tuple[Engine, Sent, PulseStore]:
    store, sent = PulseStore(tmp_path / "pulse.db"), Sent()
    return Engine(Rules(home=HOME, **rules), store, sent), sent, store


def _kv(**values: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def loc(at: tuple[float, float]) -> list[dict[str, Any]]:
    return _kv(Location={"latitude": at[0], "longitude": at[1]})


async def test_a_plug_in_sets_the_day_s_limit_and_the_departure_schedule(tmp_path: Path) -> None:
    engine, sent, _ = _engine(tmp_path, weekday_limit=70, weekend_limit=95, departure=time(7, 30))
    await engine.frame(VIN, MONDAY_8, MONDAY_8, _kv(ChargeState="Charging"))
    assert sent == []  # the first state seen is no plug-in
    await engine.frame(VIN, MONDAY_8, MONDAY_8, _kv(ChargeState="Disconnected"))
    await engine.frame(VIN, MONDAY_8, MONDAY_8, _kv(ChargeState="Charging"))
    assert [(n, b.get("percent")) for _, n, b in sent] == [
        ("set_charge_limit", 70), ("add_charge_schedule", None)]  # fmt: skip
    assert sent[1][2]["end_time"] == 450 and sent[1][2]["days_of_week"] == "Weekdays"
    sent.clear()
    await engine.frame(VIN, SATURDAY_8, SATURDAY_8, _kv(ChargeState="Disconnected"))
    await engine.frame(VIN, SATURDAY_8, SATURDAY_8, _kv(ChargeState="Stopped"))
    assert sent[0][1:] == ("set_charge_limit", {"percent": 95})


async def test_an_arrival_preconditions_inside_the_window_only(tmp_path: Path) -> None:
    engine, sent, _ = _engine(tmp_path, precondition_window=(time(7, 0), time(9, 0)))
    away, near = (HOME[0] + 0.05, HOME[1]), (HOME[0] + 0.001, HOME[1])
    await engine.frame(VIN, MONDAY_8, MONDAY_8, loc(near))
    assert sent == []  # already home when first seen: no arrival
    await engine.frame(VIN, MONDAY_8, MONDAY_8, loc(away))
    await engine.frame(VIN, MONDAY_8, MONDAY_8, loc(near))
    assert [n for _, n, _ in sent] == ["auto_conditioning_start"]
    await engine.frame(VIN, MONDAY_8, MONDAY_8, loc(near))
    assert len(sent) == 1  # once per arrival
    late = MONDAY_8 + 3 * 3600
    await engine.frame(VIN, late, late, loc(away))
    await engine.frame(VIN, late, late, loc(near))
    assert len(sent) == 1  # 11:00: outside the window


async def test_alerts_idle_drain_stopped_early_and_the_reminder(tmp_path: Path) -> None:
    engine, _, store = _engine(tmp_path, reminder_time=time(21, 0), reminder_below=60)
    t = MONDAY_8
    await engine.frame(VIN, t, t, _kv(ChargeLimitSoc=80, Soc=50.0, ChargeState="Charging"))
    await engine.frame(VIN, t, t, _kv(Soc=55.0, ChargeState="Disconnected"))
    assert [a.kind for a in store.alerts()] == ["stopped_early"]
    await engine.frame(VIN, t, t, _kv(Soc=54.5))
    assert len(store.alerts()) == 1  # under the threshold
    await engine.frame(VIN, t, t, _kv(Soc=53.9))
    assert store.alerts()[0].kind == "idle_drain" and "1.1 %" in store.alerts()[0].message
    await engine.tick(MONDAY_8 + 12 * 3600)  # 20:00
    assert len(store.alerts()) == 2
    await engine.tick(MONDAY_8 + 13 * 3600)  # 21:00, unplugged at 53.9 %
    await engine.tick(MONDAY_8 + 13 * 3600 + 60)
    assert [a.kind for a in store.alerts()] == ["reminder", "idle_drain", "stopped_early"]


async def test_energy_per_day_adds_each_session_s_growth(tmp_path: Path) -> None:
    engine, _, store = _engine(tmp_path)
    for total in (1.0, 2.5, 0.5, 1.5):  # a new session restarts its counter
        await engine.frame(VIN, MONDAY_8, MONDAY_8, _kv(ACChargingEnergyIn=total))
    assert store.energy("2026-12-01") == [("2026-12-07", 4.0)]


async def test_preconditioning_before_departure_when_parked_at_home(tmp_path: Path) -> None:
    engine, sent, _ = _engine(tmp_path, departure=time(7, 30), precondition_before_departure_min=15)
    home = _kv(Location={"latitude": HOME[0], "longitude": HOME[1]})
    await engine.frame(VIN, MONDAY_8, MONDAY_8, home)
    seven = MONDAY_8 - 3600
    await engine.tick(seven)
    assert sent == []
    await engine.tick(seven + 20 * 60)  # 07:20
    await engine.tick(seven + 25 * 60)
    assert [n for _, n, _ in sent] == ["auto_conditioning_start"]


def test_windows_and_distances() -> None:
    assert in_window(time(23, 30), (time(22, 0), time(1, 0)))
    assert in_window(time(0, 30), (time(22, 0), time(1, 0)))
    assert not in_window(time(12, 0), (time(22, 0), time(1, 0)))
    assert 110 < distance_m(HOME, (HOME[0] + 0.001, HOME[1])) < 112


async def test_an_efficiency_outlier_at_the_end_of_a_charge(tmp_path: Path) -> None:
    engine, _, store = _engine(tmp_path)
    t = MONDAY_8
    await engine.frame(VIN, t, t, _kv(Soc=50.0, EnergyRemaining=30.0, ChargeState="Disconnected"))
    for energy, soc, state in ((0.0, 50.0, "Charging"), (6.6, 60.0, "Complete")):
        await engine.frame(VIN, t, t, _kv(ACChargingEnergyIn=energy, Soc=soc, ChargeState=state))
    assert store.alerts() == []  # 6 kWh stored (of a 60 kWh pack) from 6.6 in: usual losses
    assert engine.cars[VIN].capacity == 60.0
    await engine.frame(VIN, t, t, _kv(ChargeState="Charging"))
    await engine.frame(VIN, t, t, _kv(ACChargingEnergyIn=0.0))
    await engine.frame(VIN, t, t, _kv(ACChargingEnergyIn=12.0, Soc=70.0))
    await engine.frame(VIN, t, t, _kv(ChargeState="Stopped"))
    [alert] = store.alerts()
    assert alert.kind == "efficiency" and "12.0 kWh in, 6.0 kWh stored (50%" in alert.message
