"""A user with a home energy site and a third-party app they granted scopes to (tests)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import App
from tests.fixtures.grants import user_token
from voltgate.energy.seed import seed_energy_site

REDIRECT = "https://app.example/callback"
ALL = "energy_device_data energy_cmds user_data"


@dataclass
class Driver:
    app: App
    client_id: str
    secret: str
    user_id: str
    site_id: int

    async def token(self, scopes: str = ALL) -> str:
        """An access token the user granted the app now (authorization code, Tesla's path)."""
        return await user_token(
            self.app, self.client_id, self.secret, self.user_id, scopes, REDIRECT
        )

    async def get(self, path: str, token: str, **params: str) -> httpx.Response:
        return await self.app.http.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}
        )

    async def post(self, path: str, token: str, body: Any) -> httpx.Response:
        return await self.app.http.post(
            path, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    @property
    def site(self) -> str:
        return f"/api/1/energy_sites/{self.site_id}"


async def driver(app: App, kind: str = "third_party", scopes: str = ALL) -> Driver:
    made = await app.rt.identity.admin.create(
        name="energy app", kind=kind, scopes=scopes, redirect_uris=[REDIRECT], token_ttl=86_400
    )
    user = await app.rt.identity.users.create(
        f"{secrets.token_hex(4)}@example.com", "correct horse battery"
    )
    site = await seed_energy_site(app.rt.owner.energy, app.rt.coordinator, user.id)
    return Driver(app, made.client.id, made.secret or "", user.id, site.id)
