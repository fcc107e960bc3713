"""What a telemetry config may name: the published Fleet Telemetry `Field` names
(`fleettelemetry.protos`, without `Unknown` and the `Deprecated_*` placeholders) and the alert
audiences (`vehicle_alert.proto`'s `Audience`)."""

from __future__ import annotations

from voltgate.fleettelemetry.protos import FIELD_NUMBER

FIELD_NAMES = frozenset(
    name for name in FIELD_NUMBER if name != "Unknown" and not name.startswith("Deprecated_")
)
# Alert audiences a config may ask for; Tesla recommends "service" alone.
ALERT_TYPES = frozenset({"customer", "service", "service_fix"})
