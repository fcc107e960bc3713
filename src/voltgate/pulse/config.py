"""What pulse is told: the server and app it signs in with, and the owner's rules."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCOPES = (
    "openid offline_access user_data vehicle_device_data vehicle_location vehicle_cmds "
    "vehicle_charging_cmds"
)
# What pulse asks the vehicles to stream: changes only, a resend now and then so a restarted
# pulse learns the state without reading vehicle_data.
STREAM_FIELDS = {
    "Soc": {"interval_seconds": 1, "minimum_delta": 0.1, "resend_interval_seconds": 60},
    "ChargeState": {"interval_seconds": 1, "resend_interval_seconds": 60},
    "ChargeLimitSoc": {"interval_seconds": 1, "resend_interval_seconds": 60},
    "ACChargingPower": {"interval_seconds": 1, "minimum_delta": 0.1, "resend_interval_seconds": 60},
    "ACChargingEnergyIn": {"interval_seconds": 5, "minimum_delta": 0.05},
    "Location": {"interval_seconds": 1, "minimum_delta": 10, "resend_interval_seconds": 60},
    "EnergyRemaining": {"interval_seconds": 5, "minimum_delta": 0.5},
}


def clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def window(text: str) -> tuple[time, time]:
    """`HH:MM-HH:MM`; the end may be before the start (a window over midnight)."""
    start, end = text.split("-")
    return clock_time(start.strip()), clock_time(end.strip())


def in_window(now: time, span: tuple[time, time]) -> bool:
    start, end = span
    if start <= end:
        return start <= now <= end
    return now >= start or now <= end


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Rules:
    weekday_limit: int = 80
    weekend_limit: int = 90
    weekend_days: frozenset[str] = frozenset({"sat", "sun"})
    departure: time | None = None  # a charge schedule ending then, on plug-in
    departure_days: str = "Weekdays"
    home: tuple[float, float] | None = None
    home_radius_m: float = 500.0
    precondition_window: tuple[time, time] = (time(6, 0), time(9, 0))
    precondition_before_departure_min: int = 15  # time-triggered, when parked at home
    drain_threshold: float = 1.0  # percentage points lost while parked
    stopped_early_margin: float = 2.0  # below the limit by more than this
    efficiency_range: tuple[float, float] = (0.75, 1.02)  # stored / energy in, a charge
    efficiency_min_kwh: float = 1.0  # shorter charges are too noisy to judge
    low_battery: float = 20.0  # voltgate's threshold rule, delivered by webhook
    reminder_time: time | None = time(21, 0)
    reminder_below: float = 50.0
    timezone: str = "UTC"

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, self.zone())

    def limit_on(self, at: float) -> int:
        day = DAYS[self.local(at).weekday()]
        return self.weekend_limit if day in self.weekend_days else self.weekday_limit


@dataclass(frozen=True)
class Config:
    server: str
    client_id: str
    client_secret: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8765
    telemetry_host: str = "localhost"
    telemetry_port: int = 4443
    rules: Rules = field(default_factory=Rules)
    redirect: str | None = None  # another page shows the code (the sandbox's /sandbox/callback)
    # The app's command key (PEM, `voltgate keys app generate`): commands and stream configs of
    # vehicles that require the vehicle command protocol are signed with it.
    app_key: Path | None = None
    # The app's public-key domain (its key at https://DOMAIN/.well-known/…): named in the
    # pairing link; without it pulse reads its partner account, which a portal app cannot.
    key_domain: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def redirect_uri(self) -> str:
        return self.redirect or f"{self.base_url}/callback"

    @property
    def pasted(self) -> bool:
        """Whether the owner pastes the code here (the app's redirect URI is not pulse's)."""
        return self.redirect is not None and self.redirect != f"{self.base_url}/callback"
