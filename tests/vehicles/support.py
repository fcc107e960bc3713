"""A user with the seeded vehicles and a third-party app that gets that user's tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import App
from tests.fixtures.grants import user_token
from voltgate.vehicles.seed import seed_vehicles
from voltgate.vehicles.store import Vehicle

REDIRECT = "https://app.example/callback"
ALL_SCOPES = (
    "openid offline_access vehicle_device_data vehicle_location vehicle_cmds vehicle_charging_cmds"
)
DEFAULT_SCOPES = "vehicle_device_data vehicle_location vehicle_charging_cmds"
UNAVAILABLE = "vehicle unavailable: vehicle is offline or asleep"


@dataclass
class Driver:
    """A user, their seeded vehicles (`charging`: the Model 3, `asleep`: the Model Y, `signed`:
    the newer Model 3 that takes only signed commands), and a third-party app acting for them."""

    app: App
    client_id: str
    secret: str
    user_id: str
    charging: Vehicle
    asleep: Vehicle
    signed: Vehicle

    async def headers(self, scopes: str = DEFAULT_SCOPES) -> dict[str, str]:
        """A fresh access token of this user for the app (the code flow's last step), so tests
        that move the clock by hours never hold an expired one."""
        token = await user_token(
            self.app, self.client_id, self.secret, self.user_id, scopes, REDIRECT
        )
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, scopes: str = DEFAULT_SCOPES, **kw: Any) -> httpx.Response:
        headers = await self.headers(scopes) | kw.pop("headers", {})
        return await self.app.http.get(path, headers=headers, **kw)

    async def post(self, path: str, scopes: str = DEFAULT_SCOPES, **kw: Any) -> httpx.Response:
        headers = await self.headers(scopes) | kw.pop("headers", {})
        return await self.app.http.post(path, headers=headers, **kw)

    async def data(self, vehicle: Vehicle | str | int, **kw: Any) -> httpx.Response:
        ref = vehicle.id if isinstance(vehicle, Vehicle) else vehicle
        return await self.get(f"/api/1/vehicles/{ref}/vehicle_data", **kw)

    async def command(
        self, vehicle: Vehicle, name: str, body: Any = None, **kw: Any
    ) -> httpx.Response:
        extra = {} if body is None else {"json": body}
        return await self.post(f"/api/1/vehicles/{vehicle.vin}/command/{name}", **extra, **kw)

    async def wake(self, vehicle: Vehicle) -> dict[str, Any]:
        """Wake the vehicle and wait (on the frozen clock) until it is online."""
        woken = await self.post(f"/api/1/vehicles/{vehicle.id}/wake_up")
        assert woken.status_code == 200, woken.text
        self.app.clock.advance(self.app.rt.owner.vehicles.policy.wake_seconds)
        response: dict[str, Any] = woken.json()["response"]
        return response


async def driver(app: App, client: tuple[str, str] | None = None) -> Driver:
    """A new user with the seeded vehicles; pass `client` to share one app among users."""
    if client is None:
        client = await app.client(kind="third_party", scopes=ALL_SCOPES, redirect_uris=[REDIRECT])
    user = await app.rt.identity.users.create(
        f"{secrets.token_hex(4)}@example.com", "correct horse battery"
    )
    seeded = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user.id)
    charging, asleep, signed = sorted(seeded, key=lambda v: v.seed_slot or 0)
    return Driver(app, client[0], client[1], user.id, charging, asleep, signed)
