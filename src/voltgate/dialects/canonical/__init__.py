"""voltgate's own paths: the OAuth2/OIDC endpoints, `/v1/me`, health, the admin API, and the
canonical inventory (plain JSON, cursors). The authorization endpoint and pages are
`voltgate.web`'s."""

from __future__ import annotations

from fastapi import FastAPI

from voltgate.devices import endpoints as devices
from voltgate.dialects.canonical import account, admin, health, oauth
from voltgate.http.routing import RouteTable
from voltgate.runtime import Runtime
from voltgate.sites import endpoints as sites


def mount(table: RouteTable, rt: Runtime) -> None:
    identity = rt.identity
    oauth.mount(table, identity, rt.settings.issuer)
    account.mount(table, identity.consents)
    admin.mount(table, identity.admin, rt.clock)
    health.mount(table, rt.db.ping, rt.coordinator.ping)


def legacy(app: FastAPI) -> None:
    app.include_router(sites.canonical)
    app.include_router(devices.canonical)
