"""The telemetry configurations as the listener uses them: the allow-list, what to push to a
vehicle, and the vehicle's word that it runs a version (what `synced` reports)."""

from __future__ import annotations

from typing import Any

from voltgate.fleettelemetry.configs.service import TelemetryConfigs
from voltgate.fleettelemetry.configs.store import VehicleConfig


class ListenerConfigs:
    def __init__(self, configs: TelemetryConfigs) -> None:
        self._configs = configs
        self._sent: dict[str, VehicleConfig] = {}  # by VIN: the last pushed
        self._changed: set[str] = set()
        configs.listen(self._changed.update)

    async def allowed(self, vin: str) -> bool:
        return await self._configs.allowed(vin)

    async def current(self, vin: str) -> tuple[str, dict[str, Any]] | None:
        config = await self._configs.for_vehicle(vin)
        if config is None:
            self._sent.pop(vin, None)
            return None
        self._sent[vin] = config
        fields = {
            name: {
                "interval_seconds": field.interval_seconds,
                "minimum_delta": field.minimum_delta,
                "resend_interval_seconds": field.resend_interval_seconds,
            }
            for name, field in config.fields.items()
        }
        return config.version, {"fields": fields, "alert_types": list(config.alert_types)}

    async def applied(self, vin: str, version: str) -> None:
        sent = self._sent.get(vin)
        if sent is not None and sent.version == version:
            await self._configs.mark_applied(vin, sent.versions)

    def changed(self) -> set[str]:
        """The vehicles whose configurations changed since the last call."""
        changed, self._changed = self._changed, set()
        return changed

    async def catch_up(self) -> None:
        await self._configs.catch_up()
