"""Telemetry configs: an app configures a user's vehicles to stream (the user's delegated token),
reads and deletes its config of one vehicle; the vehicle side reads what it has to run
(every app's config merged) and says which versions it runs.

Only the caller's own vehicles are reached: a VIN that is another user's is 404, exactly like
one that does not exist, and a request naming one changes nothing. Each app holds at most one
config per vehicle (a new one replaces it), and a vehicle holds the configs of at most
`max_apps` apps (`max_configs` past that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from voltgate.clock import Clock
from voltgate.errors import NotFound, ValidationFailed
from voltgate.fleettelemetry.configs.compatibility import (
    EveryVehiclePaired,
    KeyPairing,
    firmware_supported,
    hardware_supported,
)
from voltgate.fleettelemetry.configs.readmodel import Listener
from voltgate.fleettelemetry.configs.store import (
    Applied,
    AppStream,
    ConfigRecord,
    ConfigStore,
    FieldConfig,
    TelemetryConfig,
    VehicleConfig,
)
from voltgate.vehicles.store import Vehicle

MAX_APPS = 5  # apps whose configs one vehicle holds at once


class Owned(Protocol):
    """A user's vehicles (`vehicles.service.Vehicles`)."""

    async def of_user(self, user_id: str) -> list[Vehicle]: ...

    async def reread(self, user_id: str) -> list[Vehicle]: ...

    async def paired_keys(self, vin: str) -> frozenset[bytes]: ...


class Watched(ConfigStore, Protocol):
    def listen(self, listener: Listener) -> None: ...

    async def catch_up(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Skipped:
    missing_key: list[str] = field(default_factory=list)
    unsupported_hardware: list[str] = field(default_factory=list)
    unsupported_firmware: list[str] = field(default_factory=list)
    max_configs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Shown:
    """One app's config of one vehicle, as `GET …/fleet_telemetry_config` shows it."""

    synced: bool
    config: TelemetryConfig | None
    limit_reached: bool
    key_paired: bool


class TelemetryConfigs:
    def __init__(
        self,
        store: Watched,
        vehicles: Owned,
        clock: Clock,
        pairing: KeyPairing | None = None,
        max_apps: int = MAX_APPS,
    ) -> None:
        self._store = store
        self._vehicles = vehicles
        self._clock = clock
        self._pairing: KeyPairing = pairing or EveryVehiclePaired()
        self._max_apps = max_apps

    async def configure(
        self,
        user_id: str,
        client_id: str,
        vins: Sequence[str],
        config: TelemetryConfig,
        signer: bytes | None = None,
    ) -> tuple[int, Skipped]:
        """Store `config` as the app's for each vehicle that can take it: how many were
        updated (an unchanged config counts, and keeps its version) and the others by reason.
        `signer`: the public key that signed the config (`signed.py`), None when unsigned."""
        now = self._clock.now()
        if config.exp is not None and config.exp <= now:
            raise ValidationFailed("config.exp: must be a Unix time in the future")
        owned = await self._owned(user_id, list(dict.fromkeys(v.upper() for v in vins)))
        skipped = Skipped()
        changed: list[tuple[str, TelemetryConfig]] = []
        updated = 0
        for vehicle in owned:
            vin = vehicle.vin
            held = await self._store.of_vehicle(vin)
            if not await self._has_key(vehicle, signer):
                skipped.missing_key.append(vin)
            elif not hardware_supported(vehicle):
                skipped.unsupported_hardware.append(vin)
            elif not firmware_supported(vehicle):
                skipped.unsupported_firmware.append(vin)
            elif self._full(held, client_id, now):
                skipped.max_configs.append(vin)
            else:
                updated += 1
                mine = next((r for r in held if r.client_id == client_id), None)
                if mine is None or mine.config != config or mine.user_id != user_id:
                    changed.append((vin, config))
        if changed:
            await self._store.save(client_id, user_id, changed, now)
        return updated, skipped

    async def show(self, user_id: str, client_id: str, ref: str) -> Shown:
        """`synced`: the vehicle runs this config (or, with none, has dropped the last one)."""
        vehicle = await self._one(user_id, ref)
        now = self._clock.now()
        held = await self._store.of_vehicle(vehicle.vin)
        mine = next((r for r in held if r.client_id == client_id), None)
        live = mine is not None and mine.live(now)
        return Shown(
            # Nothing configured, or expired (the vehicle drops it by itself): nothing to run.
            synced=mine is None or mine.synced or (mine.config is not None and not live),
            config=mine.config if mine is not None and live else None,
            limit_reached=self._full(held, client_id, now),
            key_paired=await self._pairing.paired(client_id, vehicle.vin),
        )

    async def remove(self, user_id: str, client_id: str, ref: str) -> int:
        """Delete the app's config of the vehicle: 1, or 0 when it had none."""
        vehicle = await self._one(user_id, ref)
        held = await self._store.get(client_id, vehicle.vin)
        if held is None or held.config is None:
            return 0
        return len(await self._store.delete(client_id, [vehicle.vin], self._clock.now()))

    async def app_disconnected(self, user_id: str, client_id: str) -> None:
        """The user withdrew the app's access: its configs of the user's vehicles go."""
        await self._store.delete_for_user(client_id, user_id, self._clock.now())

    # The vehicle side (the telemetry ingest and the simulated vehicles).

    async def for_vehicle(self, vin: str) -> VehicleConfig | None:
        """What the vehicle has to run now; None when it has nothing to run or to drop."""
        now = self._clock.now()
        held = await self._store.of_vehicle(vin)
        apps = tuple(
            AppStream(r.client_id, r.version, r.config)
            for r in held
            if r.config is not None and r.config.live(now)
        )
        dropped = [r for r in held if r.config is None and not r.synced]
        if not apps and not dropped:
            return None
        versions = {r.client_id: r.version for r in dropped}
        versions.update((a.client_id, a.version) for a in apps)
        digest = hashlib.sha256(repr(sorted(versions.items())).encode()).hexdigest()[:16]
        alerts = {kind for a in apps for kind in a.config.alert_types or ()}
        expiring = [a.config.exp for a in apps if a.config.exp is not None]
        return VehicleConfig(
            vin=vin,
            version=digest,
            versions=versions,
            fields=_merged(apps),
            alert_types=tuple(sorted(alerts)),
            apps=apps,
            expires_at=min(expiring, default=None),
        )

    async def vins_configured(self) -> set[str]:
        """Vehicles with at least one live config (the ingest's allow-list)."""
        now = self._clock.now()
        return {r.vin for r in await self._store.all() if r.live(now)}

    async def allowed(self, vin: str) -> bool:
        """`vin in vins_configured()`, for one vehicle."""
        now = self._clock.now()
        return any(r.live(now) for r in await self._store.of_vehicle(vin))

    async def mark_applied(self, vin: str, versions: Mapping[str, int]) -> None:
        """The vehicle runs these versions (`VehicleConfig.versions`, app client id →
        version): each app's config is `synced` while its version is the one applied. A
        version the vehicle already reported, or one past the stored, changes nothing."""
        held = {r.client_id: r for r in await self._store.of_vehicle(vin)}
        moved = [
            Applied(client_id, vin, version)
            for client_id, version in versions.items()
            if (r := held.get(client_id)) is not None and r.applied_version < version <= r.version
        ]
        if moved:
            await self._store.mark_applied(moved)

    def listen(self, listener: Listener) -> None:
        """`listener(vins)` (synchronous, must not raise) whenever the configs of those
        vehicles changed in this process's view: a write here, or one heard from elsewhere.
        An `exp` passing is no write: `VehicleConfig.expires_at` says when to look again."""
        self._store.listen(listener)

    async def catch_up(self) -> None:
        """Take in other processes' writes (the runtime calls this at each change poll)."""
        await self._store.catch_up()

    async def _has_key(self, vehicle: Vehicle, signer: bytes | None) -> bool:
        """A signed config: its signer is paired with the vehicle. An unsigned one: the
        vehicle does not require the command protocol (it takes the config as Fleet API
        hands it over; `key_paired` in GET tells whether the app's key is on it)."""
        if signer is not None:
            return signer in await self._vehicles.paired_keys(vehicle.vin)
        return vehicle.command_signing != "required"  # else only what a paired key signed

    def _full(self, held: list[ConfigRecord], client_id: str, now: float) -> bool:
        """The vehicle holds `max_apps` other apps' live configs (and none of this app)."""
        if any(r.client_id == client_id and r.live(now) for r in held):
            return False
        return sum(1 for r in held if r.live(now)) >= self._max_apps

    async def _owned(self, user_id: str, refs: Sequence[str]) -> list[Vehicle]:
        """The user's vehicles named by `refs` (VINs or ids), in that order; 404 naming the
        first that is not one of them (another user's or none at all alike)."""
        found, missing = _match(await self._vehicles.of_user(user_id), refs)
        if missing is not None:  # added by another instance a moment ago? read them as stored
            found, missing = _match(await self._vehicles.reread(user_id), refs)
        if missing is not None:
            raise NotFound(f"no vehicle {missing[:32]!r}")
        return found

    async def _one(self, user_id: str, ref: str) -> Vehicle:
        return (await self._owned(user_id, [ref]))[0]


def _match(vehicles: list[Vehicle], refs: Sequence[str]) -> tuple[list[Vehicle], str | None]:
    """The vehicles `refs` name, and the first ref that names none of them."""
    by_ref = {v.vin: v for v in vehicles} | {str(v.id): v for v in vehicles}
    found: list[Vehicle] = []
    for ref in refs:
        vehicle = by_ref.get(ref.upper())
        if vehicle is None:
            return found, ref
        found.append(vehicle)
    return found, None


def _merged(apps: tuple[AppStream, ...]) -> dict[str, FieldConfig]:
    """Each field at the smallest interval, delta and resend interval any app asked for."""
    merged: dict[str, FieldConfig] = {}
    for app in apps:
        for name, wanted in app.config.fields.items():
            held = merged.get(name)
            if held is None:
                merged[name] = wanted
                continue
            delta = (
                None
                if held.minimum_delta is None or wanted.minimum_delta is None
                else min(held.minimum_delta, wanted.minimum_delta)
            )
            resends = [
                s for s in (held.resend_interval_seconds, wanted.resend_interval_seconds) if s
            ]
            merged[name] = FieldConfig(
                min(held.interval_seconds, wanted.interval_seconds),
                delta,
                min(resends, default=None),
            )
    return merged
