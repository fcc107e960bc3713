"""Who a token belongs to (`/v1/me`), and the signed-in user's connected apps as JSON: what
`/account/apps` shows, for apps and scripts (a token a person granted)."""

from __future__ import annotations

from typing_extensions import TypedDict

from voltgate.errors import RESOURCE_ERRORS, NotFound
from voltgate.http.guards import ANY_TOKEN, Guard
from voltgate.http.routing import Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.consent import Consents

PERSON = Guard(kinds=DELEGATED_KINDS)


class Me(TypedDict):
    subject: str
    client_id: str
    kind: str
    scopes: list[str]
    environment: str | None
    issued_at: int
    expires_at: int


class ConnectedApp(TypedDict):
    client_id: str
    name: str
    scopes: list[str]
    granted_at: int
    last_used_at: int | None


class ConnectedApps(TypedDict):
    apps: list[ConnectedApp]


async def me(call: Call[None, None, None]) -> Me:
    """Who the bearer token belongs to: the first resource behind the guard."""
    claims = call.principal.claims
    return {
        "subject": claims.subject,
        "client_id": claims.client_id,
        "kind": claims.kind,
        "scopes": sorted(claims.scopes),
        "environment": claims.raw.get("env"),
        "issued_at": int(claims.issued_at),
        "expires_at": int(claims.expires_at),
    }


class Account:
    def __init__(self, consents: Consents) -> None:
        self._consents = consents

    async def apps(self, call: Call[None, None, None]) -> ConnectedApps:
        apps = await self._consents.apps(call.principal.claims.subject)
        return {
            "apps": [
                {
                    "client_id": app.consent.client_id,
                    "name": app.client_name,
                    "scopes": app.consent.scope.split(),
                    "granted_at": int(app.consent.granted_at),
                    "last_used_at": None if app.last_used_at is None else int(app.last_used_at),
                }
                for app in apps
            ]
        }

    async def disconnect(self, call: Call[None, None, None]) -> None:
        request = call.request
        client_id = call.params["client_id"][:128]
        # A NUL is never in an id (and PostgreSQL text refuses it): no such app.
        found = "\x00" not in client_id and await self._consents.disconnect(
            call.principal.claims.subject,
            client_id,
            request_id=request.request_id,
            address=request.address,
        )
        if not found:
            raise NotFound(f"no connected app {client_id!r}")


def mount(table: RouteTable, consents: Consents) -> None:
    account = Account(consents)
    routes = table.scope("/v1/me", errors=RESOURCE_ERRORS, tags=("account",))
    routes.get("", me, guard=ANY_TOKEN, response=Me, summary="The caller of this bearer token")
    routes.get(
        "/apps",
        account.apps,
        guard=PERSON,
        response=ConnectedApps,
        summary="Apps the user has granted access to",
    )
    routes.delete(
        "/apps/{client_id}",
        account.disconnect,
        guard=PERSON,
        status=204,
        failures=(404,),
        summary="Disconnect an app: its tokens for this user stop working at once",
    )
