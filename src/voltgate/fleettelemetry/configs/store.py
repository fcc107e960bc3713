"""Telemetry configs' records and the storage interface they own (`repository.py` implements it
for SQLite and PostgreSQL, `readmodel.py` holds it in memory).

A config belongs to one app (OAuth client) and one vehicle: what the app asked the vehicle to
stream. Its `version` moves on every change, a deletion included; `applied_version` is the
version the vehicle last said it runs, so the config is in sync when the two are equal. A
deleted config stays as a row without a config until the vehicle has applied the deletion
(and after: the version keeps growing if the app configures the vehicle again, so a late
report of an old version never passes for the new one). `seq` orders every write to the
table: a process catches up with the others' writes by reading the rows past the last it saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class FieldConfig:
    """One signal: sent when it changes, at most every `interval_seconds`; a number only when
    it moved by `minimum_delta` or more; again every `resend_interval_seconds` unchanged."""

    interval_seconds: int
    minimum_delta: float | None = None
    resend_interval_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """Tesla's `config` object, as the app sent it (validated); a config that came signed
    also keeps the JWS's `iss` and `aud`, shown as Tesla shows them."""

    hostname: str
    port: int
    fields: Mapping[str, FieldConfig]
    ca: str | None = None
    alert_types: tuple[str, ...] | None = None
    exp: int | None = None  # Unix seconds; the vehicle drops the config then
    prefer_typed: bool | None = None
    iss: str | None = None  # a signed config's signer: its public key in base64
    aud: str | None = None  # … and the audience it was signed for

    def live(self, now: float) -> bool:
        return self.exp is None or self.exp > now

    def document(self) -> dict[str, Any]:
        """As Tesla shows it (and as it is stored): optional members only when set."""
        fields: dict[str, dict[str, Any]] = {}
        for name, field in self.fields.items():
            entry: dict[str, Any] = {"interval_seconds": field.interval_seconds}
            if field.minimum_delta is not None:
                entry["minimum_delta"] = field.minimum_delta
            if field.resend_interval_seconds is not None:
                entry["resend_interval_seconds"] = field.resend_interval_seconds
            fields[name] = entry
        shown: dict[str, Any] = {"hostname": self.hostname, "port": self.port}
        alerts = None if self.alert_types is None else list(self.alert_types)
        optional: dict[str, Any] = {"ca": self.ca, "fields": fields, "alert_types": alerts}
        optional |= {"exp": self.exp, "prefer_typed": self.prefer_typed}
        optional |= {"iss": self.iss, "aud": self.aud}
        shown |= {name: value for name, value in optional.items() if value is not None}
        return shown

    @classmethod
    def from_document(cls, stored: Mapping[str, Any]) -> TelemetryConfig:
        alerts = stored.get("alert_types")
        return cls(
            hostname=stored["hostname"],
            port=stored["port"],
            fields={name: FieldConfig(**field) for name, field in stored["fields"].items()},
            ca=stored.get("ca"),
            alert_types=None if alerts is None else tuple(alerts),
            exp=stored.get("exp"),
            prefer_typed=stored.get("prefer_typed"),
            iss=stored.get("iss"),
            aud=stored.get("aud"),
        )


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    client_id: str
    vin: str
    user_id: str  # the vehicle's owner who let the app configure it
    config: TelemetryConfig | None  # None: deleted
    version: int
    applied_version: int  # 0: the vehicle has applied none
    updated_at: float
    seq: int

    @property
    def synced(self) -> bool:
        return self.applied_version == self.version

    def live(self, now: float) -> bool:
        """Configured and not expired."""
        return self.config is not None and self.config.live(now)


@dataclass(frozen=True, slots=True)
class AppStream:
    """One app's part of a vehicle's config: the stream to that app carries these fields."""

    client_id: str
    version: int
    config: TelemetryConfig


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    """What one vehicle runs: every app's live config merged.

    `fields` is the union of the apps' fields, each at the smallest `interval_seconds`,
    `minimum_delta` (none when any app has none) and `resend_interval_seconds` any app asked
    for; `apps` keeps each app's own, to filter the stream per app. `versions` (app client id
    → version) names every config the vehicle has to run or to drop (a deletion it has not
    applied yet); it is what `mark_applied` takes back once the vehicle runs this. `version`
    changes whenever `versions` does. `expires_at` is the earliest `exp` of the apps: the
    merged config changes then without any write."""

    vin: str
    version: str
    versions: Mapping[str, int]
    fields: Mapping[str, FieldConfig]
    alert_types: tuple[str, ...]
    apps: tuple[AppStream, ...]
    expires_at: float | None


# (vin, config) pairs one app stores together.
Configs = Sequence[tuple[str, TelemetryConfig]]


@dataclass(frozen=True, slots=True)
class Applied:
    """The vehicle runs `version` of `client_id`'s config."""

    client_id: str
    vin: str
    version: int


class ConfigStore(Protocol):
    async def get(self, client_id: str, vin: str) -> ConfigRecord | None: ...

    async def of_vehicle(self, vin: str) -> list[ConfigRecord]:
        """Every app's record for the vehicle, deleted ones included."""

    async def all(self) -> list[ConfigRecord]: ...

    async def save(
        self, client_id: str, user_id: str, configs: Configs, at: float
    ) -> list[ConfigRecord]:
        """Store `(vin, config)` pairs for the app together, each a new version."""

    async def delete(self, client_id: str, vins: Sequence[str], at: float) -> list[ConfigRecord]:
        """Delete the app's configs of these vehicles: the records that had one."""

    async def delete_for_user(self, client_id: str, user_id: str, at: float) -> list[ConfigRecord]:
        """Delete every config the app holds on the user's vehicles: the records that had one."""

    async def mark_applied(self, applied: Sequence[Applied]) -> list[ConfigRecord]:
        """Record versions the vehicle runs (never past a record's version, never backwards):
        the records that moved."""
