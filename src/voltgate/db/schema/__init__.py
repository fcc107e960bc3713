"""Table definitions (SQLAlchemy Core), one MetaData. Alembic migrations in `migrations/`
mirror these.

Times are Unix seconds as double precision: portable across SQLite and PostgreSQL and cheap
to compare with token claims.
"""

from __future__ import annotations

from voltgate.db.schema.alerting import (
    alert_rules,
    alert_states,
    alerts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_leases,
)
from voltgate.db.schema.base import metadata
from voltgate.db.schema.contacts import contacts, external_identities
from voltgate.db.schema.contracts import (
    charging_cards,
    contracts,
    payment_methods,
    remote_sessions,
)
from voltgate.db.schema.fleet import (
    ROLLUP_FIELDS,
    ROLLUP_PARTS,
    charging_records,
    command_requests,
    commands,
    connector_states,
    connectors,
    device_events,
    devices,
    enrollments,
    sites,
    telemetry,
    telemetry_rollups,
)
from voltgate.db.schema.identity import (
    audit_events,
    authorization_codes,
    client_secrets,
    clients,
    consents,
    partner_accounts,
    refresh_tokens,
    revoked_tokens,
    signing_keys,
    state,
    token_families,
    users,
)
from voltgate.db.schema.owner import (
    energy_sites,
    vehicle_charging_sessions,
    vehicles,
)
from voltgate.db.schema.portal import app_usage, developer_apps, portal_reveals
from voltgate.db.schema.public import charge_points, declared
from voltgate.db.schema.streaming import (
    vehicle_connectivity,
    vehicle_messages,
    vehicle_signal_rollups,
)
from voltgate.db.schema.telemetry_configs import fleet_telemetry_configs
from voltgate.db.schema.virtual_keys import vehicle_keys

__all__ = [
    "ROLLUP_FIELDS",
    "ROLLUP_PARTS",
    "alert_rules",
    "alert_states",
    "alerts",
    "app_usage",
    "audit_events",
    "authorization_codes",
    "charge_points",
    "charging_cards",
    "charging_records",
    "client_secrets",
    "clients",
    "command_requests",
    "commands",
    "connector_states",
    "connectors",
    "consents",
    "contacts",
    "contracts",
    "declared",
    "developer_apps",
    "device_events",
    "devices",
    "energy_sites",
    "enrollments",
    "external_identities",
    "fleet_telemetry_configs",
    "metadata",
    "partner_accounts",
    "payment_methods",
    "portal_reveals",
    "refresh_tokens",
    "remote_sessions",
    "revoked_tokens",
    "signing_keys",
    "sites",
    "state",
    "telemetry",
    "telemetry_rollups",
    "token_families",
    "users",
    "vehicle_charging_sessions",
    "vehicle_connectivity",
    "vehicle_keys",
    "vehicle_messages",
    "vehicle_signal_rollups",
    "vehicles",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_leases",
]
