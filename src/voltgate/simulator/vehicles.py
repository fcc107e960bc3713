"""The sandbox's vehicles streaming their physics over Fleet Telemetry, as cars do.

Each vehicle reads its own state (the stored vehicle and its present computed from the clock,
`vehicles.physics`: the car's own sensors) and, while it is awake, keeps one mutual-TLS
WebSocket to the listener with the certificate the telemetry CA issued it; asleep, it closes
the socket with a goodbye (1000), so its connectivity says asleep. It sends what its
configuration asks for: a field at most every `interval_seconds`, only when it moved by at
least `minimum_delta` (any change for text and flags), and again every
`resend_interval_seconds` when unchanged. A message not acknowledged within `resend_after`
is sent again (same txid, marked as a resend).

The configuration reaches the vehicle from the listener in a text frame when it connects and
whenever it changes (`{"type": "config", "version": …, "fields": {…}}`); the vehicle answers
`{"type": "config_applied", "version": …}`, which is what `fleet_telemetry_config`'s `synced`
reports. A vehicle with no configuration is refused (403) and asks again every
`RETRY_SECONDS`.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from websockets.exceptions import InvalidStatus, WebSocketException

from voltgate.fleettelemetry.client import VehicleClient
from voltgate.vehicles.physics import Present, power_kw
from voltgate.vehicles.store import Vehicle

log = structlog.get_logger("voltgate.simulator")
RETRY_SECONDS = 3.0
_KM_PER_MILE = 1.609344


def _charge_state(vehicle: Vehicle, seen: Present) -> str:
    return seen.charging_state if vehicle.plugged_in else "Disconnected"


# What a sandbox vehicle can report, by Fleet Telemetry field name.
SENSORS: dict[str, Callable[[Vehicle, Present], Any]] = {
    "Soc": lambda v, s: round(s.level, 2),
    "BatteryLevel": lambda v, s: round(s.level, 2),
    "ChargeLimitSoc": lambda v, s: v.charge_limit,
    "ChargeAmps": lambda v, s: float(v.charging_amps if s.charging else 0),
    "ChargeCurrentRequest": lambda v, s: v.charging_amps,
    "ChargeCurrentRequestMax": lambda v, s: v.max_amps,
    "ACChargingPower": lambda v, s: round(power_kw(v), 3) if s.charging else 0.0,
    "ACChargingEnergyIn": lambda v, s: round(s.energy_added, 3),
    "ChargerVoltage": lambda v, s: float(v.charger_voltage if s.charging else 0),
    "ChargeState": _charge_state,
    "DetailedChargeState": lambda v, s: _charge_state(v, s),
    "EnergyRemaining": lambda v, s: round(s.level * v.battery_kwh / 100, 3),
    "EstBatteryRange": lambda v, s: round(s.level * v.rated_range_mi / 100, 1),
    "RatedRange": lambda v, s: round(s.level * v.rated_range_mi / 100, 1),
    "InsideTemp": lambda v, s: round(s.inside_temp, 1),
    "OutsideTemp": lambda v, s: round(v.outside_temp, 1),
    "Location": lambda v, s: (v.latitude, v.longitude),
    "VehicleSpeed": lambda v, s: 0.0,
    "Gear": lambda v, s: "P",
    "Odometer": lambda v, s: round(v.odometer_mi, 1),
    "Locked": lambda v, s: v.locked,
    "ChargePortDoorOpen": lambda v, s: v.charge_port_open or v.plugged_in,
    "PreconditioningEnabled": lambda v, s: v.climate_on,
    "VehicleName": lambda v, s: v.display_name,
}


@dataclass(frozen=True, slots=True)
class FieldConfig:
    interval: float
    minimum_delta: float
    resend_interval: float | None


def parse_config(text: str) -> tuple[str, dict[str, FieldConfig]] | None:
    """A config frame's (version, fields), or None for anything else."""
    try:
        frame = orjson.loads(text)
        if frame.get("type") != "config":
            return None
        fields = {
            name: FieldConfig(
                float(spec["interval_seconds"]),
                float(spec.get("minimum_delta") or 0.0),
                float(spec["resend_interval_seconds"])
                if spec.get("resend_interval_seconds")
                else None,
            )
            for name, spec in frame["fields"].items()
        }
        return str(frame["version"]), fields
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None


def _moved(before: Any, after: Any, delta: float) -> bool:
    if isinstance(after, float | int) and not isinstance(after, bool):
        if not isinstance(before, float | int) or isinstance(before, bool):
            return True
        return abs(after - before) >= delta if delta > 0 else after != before
    if isinstance(after, tuple) and isinstance(before, tuple) and delta > 0:
        return math.dist(after, before) * 111_000 >= delta  # metres, roughly
    return bool(after != before)


@dataclass
class StreamingVehicle:
    vin: str
    client: VehicleClient
    fields: dict[str, FieldConfig] = field(default_factory=dict)
    version: str | None = None
    checked: dict[str, float] = field(default_factory=dict)  # when a field was last looked at
    sent: dict[str, tuple[Any, float]] = field(default_factory=dict)  # value, when
    retry_at: float = 0.0
    messages: int = 0

    async def step(self, vehicle: Vehicle, seen: Present, now: float) -> None:
        """One look at the car: connect or say goodbye as it wakes or sleeps, take a new
        configuration, send what is due, resend what was not acknowledged."""
        if not seen.online:
            if self.client.connected:
                await self.client.close(1000, "asleep")
            return
        if not self.client.connected:
            if now < self.retry_at:
                return
            if not await self._connect(now):
                return
        try:
            await self._configure()
            items = self._due(vehicle, seen, now)
            if items:
                await self.client.send_signals(items, now)
                self.messages += 1
            await self.client.resend_due()
        except WebSocketException:  # the socket went away: connect again next time
            await self.client.drop()

    async def _connect(self, now: float) -> bool:
        try:
            await self.client.connect()
        except InvalidStatus:  # 403: no configuration yet
            self.retry_at = now + RETRY_SECONDS
            return False
        except (OSError, ssl.SSLError, WebSocketException, TimeoutError) as exc:
            log.debug("vehicle_connect_failed", vin=self.vin, error=type(exc).__name__)
            self.retry_at = now + RETRY_SECONDS
            return False
        self.sent.clear()  # a new connection starts with every configured field
        await self.client.resend_all()
        return True

    async def _configure(self) -> None:
        while not self.client.texts.empty():
            parsed = parse_config(self.client.texts.get_nowait())
            if parsed is None:
                continue
            self.version, self.fields = parsed
            self.checked.clear()
            self.sent.clear()
            reply = {"type": "config_applied", "version": self.version}
            await self.client.say(orjson.dumps(reply).decode())

    def _due(self, vehicle: Vehicle, seen: Present, now: float) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = []
        for name, config in self.fields.items():
            sensor = SENSORS.get(name)
            if sensor is None or now - self.checked.get(name, -math.inf) < config.interval:
                continue
            self.checked[name] = now
            value = sensor(vehicle, seen)
            last = self.sent.get(name)
            stale = (
                last is None
                or _moved(last[0], value, config.minimum_delta)
                or (config.resend_interval is not None and now - last[1] >= config.resend_interval)
            )
            if stale:
                items.append((name, value))
                self.sent[name] = (value, now)
        return items
