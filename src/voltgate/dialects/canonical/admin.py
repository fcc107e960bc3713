"""Admin API for clients (the same service the CLI uses); needs a token with `voltgate:admin`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.clock import Clock
from voltgate.errors import RESOURCE_ERRORS
from voltgate.http.guards import Guard
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.admin import ClientAdmin, ClientView, describe, parse_duration

ADMIN = Guard(scopes=("voltgate:admin",))


class CreateClient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(max_length=32)
    scopes: str = Field(max_length=2000)
    token_ttl: int | None = Field(default=None, ge=60, le=90 * 86_400)
    redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    grant_types: list[str] | None = Field(default=None, max_length=8)


class Rotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap: str = Field(default="24h", max_length=16)


class ClientPath(BaseModel):
    client_id: str = Field(max_length=128, pattern=r"^[^\x00]*$")


class CreatedClient(ClientView):
    client_secret: str | None


class ClientList(TypedDict):
    clients: list[ClientView]


class RotatedSecret(TypedDict):
    client_id: str
    client_secret: str
    overlap_seconds: int


class Admin:
    def __init__(self, admin: ClientAdmin, clock: Clock) -> None:
        self._admin = admin
        self._clock = clock

    async def list_clients(self, _call: Call[None, None, None]) -> ClientList:
        now = self._clock.now()
        return {"clients": [describe(c, now) for c in await self._admin.list_all()]}

    async def create(self, call: Call[None, None, CreateClient]) -> CreatedClient:
        body = call.body
        created = await self._admin.create(
            name=body.name,
            kind=body.kind,
            scopes=body.scopes,
            token_ttl=body.token_ttl,
            redirect_uris=body.redirect_uris,
            grant_types=body.grant_types,
        )
        return {**describe(created.client, self._clock.now()), "client_secret": created.secret}

    async def show(self, call: Call[ClientPath, None, None]) -> ClientView:
        return describe(await self._admin.show(call.path.client_id), self._clock.now())

    async def rotate(self, call: Call[ClientPath, None, Rotate]) -> RotatedSecret:
        overlap = parse_duration(call.body.overlap)
        client_id = call.path.client_id
        secret = await self._admin.rotate_secret(
            client_id, overlap, request_id=call.request.request_id
        )
        return {"client_id": client_id, "client_secret": secret, "overlap_seconds": overlap}

    async def disable(self, call: Call[ClientPath, None, None]) -> ClientView:
        return describe(await self._admin.disable(call.path.client_id), self._clock.now())


def mount(table: RouteTable, admin: ClientAdmin, clock: Clock) -> None:
    routes = Admin(admin, clock)
    api = table.scope("/admin/clients", errors=RESOURCE_ERRORS, guard=ADMIN, tags=("admin",))
    api.get("", routes.list_clients, response=ClientList, summary="List clients")
    api.post(
        "",
        routes.create,
        body=Body.json(CreateClient),
        status=201,
        response=CreatedClient,
        summary="Create a client (the secret is shown once)",
    )
    one = {"path_model": ClientPath, "failures": (404,)}
    api.get("/{client_id}", routes.show, response=ClientView, summary="Show a client", **one)
    api.post(
        "/{client_id}/rotate-secret",
        routes.rotate,
        body=Body.json(Rotate, optional=True),
        response=RotatedSecret,
        summary="New secret; the old one overlaps",
        **one,
    )
    api.post(
        "/{client_id}/disable",
        routes.disable,
        response=ClientView,
        summary="Disable a client and its tokens",
        **one,
    )
