"""voltgate's own paths: the OAuth2/OIDC endpoints, `/v1/me`, health, metrics, the admin API,
the canonical inventory, alerts and webhooks (plain JSON, cursors), and in a sandbox its
vehicle controls. The authorization endpoint and pages are `voltgate.web`'s."""

from __future__ import annotations

from voltgate.config import Environment
from voltgate.dialects.canonical import (
    account,
    admin,
    alerts,
    health,
    inventory,
    metrics,
    oauth,
    sandbox,
    webhooks,
)
from voltgate.http.kept import Kept
from voltgate.http.routing import RouteTable
from voltgate.runtime import Runtime


def mount(table: RouteTable, rt: Runtime, _kept: Kept) -> None:
    identity = rt.identity
    oauth.mount(table, identity, rt.settings.issuer)
    account.mount(table, identity.consents)
    admin.mount(table, identity.admin, rt.clock)
    health.mount(table, rt.db.ping, rt.coordinator.ping)
    metrics.mount(table, rt.metrics.render)
    inventory.mount(table, rt.fleet.sites, rt.fleet.devices, rt.clock)
    alerts.mount(table, rt.alerting.alerts)
    webhooks.mount(table, rt.alerting.webhooks, rt.clock)
    if rt.settings.environment is Environment.SANDBOX:  # a simulated world's own controls
        sandbox.mount(table, rt.owner.vehicles)
