"""The signed-in user on the Tesla Fleet API (`user_data`): `GET /api/1/users/me` (email, full
name, profile image URL, vault UUID) and `GET /api/1/users/region` (this server is every
region's Fleet API: `na`, at the public base URL).

Only a user's delegated token reaches them (kinds `third_party`, `open_source`). The vault UUID
is derived from the user's id (UUIDv5): stable, the same for every app, nothing stored.
"""

from __future__ import annotations

import uuid

from typing_extensions import TypedDict

from voltgate.errors import InvalidToken
from voltgate.http.guards import Guard
from voltgate.http.routing import Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.oidc import picture_url
from voltgate.identity.users import Users

USER_DATA = Guard(kinds=DELEGATED_KINDS, scopes=("user_data",))
REGION = "na"
_VAULTS = uuid.uuid5(uuid.NAMESPACE_URL, "https://voltgate.dev/tesla/vault")


def vault_uuid(user_id: str) -> str:
    return str(uuid.uuid5(_VAULTS, user_id))


class Me(TypedDict):
    email: str
    full_name: str
    profile_image_url: str
    vault_uuid: str


class MeResponse(TypedDict):
    response: Me


class Region(TypedDict):
    region: str
    fleet_api_base_url: str


class RegionResponse(TypedDict):
    response: Region


class UserRoutes:
    def __init__(self, users: Users, issuer: str) -> None:
        self._users = users
        self._issuer = issuer

    async def me(self, call: Call[None, None, None]) -> MeResponse:
        user = await self._users.find(call.principal.claims.subject)
        if user is None or user.disabled_at is not None:
            raise InvalidToken("the user of this access token no longer exists or is disabled")
        return {
            "response": {
                "email": user.email,
                "full_name": user.display_name,
                "profile_image_url": picture_url(self._issuer, user.id),
                "vault_uuid": vault_uuid(user.id),
            }
        }

    async def region(self, _call: Call[None, None, None]) -> RegionResponse:
        return {"response": {"region": REGION, "fleet_api_base_url": self._issuer}}


def mount(table: RouteTable, users: Users, issuer: str) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = UserRoutes(users, issuer)
    api = table.scope("/api/1/users", tags=("tesla: users",), guard=USER_DATA)
    api.get("/me", routes.me, response=MeResponse, summary="The user's account (user_data)")
    api.get(
        "/region",
        routes.region,
        response=RegionResponse,
        summary="The user's region and its Fleet API base URL (user_data)",
    )
