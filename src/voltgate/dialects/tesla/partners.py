"""`POST`/`GET /api/1/partner_accounts`: a partner app registers the domain that hosts its
public key. Only a partner token (client credentials of a `partner` client) reaches them; any
other kind is 403 naming the kind it needs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.http.guards import Guard
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import ClientKind
from voltgate.identity.partners import PartnerAccount, Partners

PARTNER = Guard(kinds=(ClientKind.PARTNER.value,))
_KEY_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
# {"domain": …}: 253 characters, 12 bytes each at worst (\u-escaped surrogate pairs).
_MAX_BODY = 4_096


class PartnerDomain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=253, description="e.g. fleet.example.com")


class Account(TypedDict):
    client_id: str
    domain: str
    public_key_url: str
    created_at: int
    updated_at: int


class AccountResponse(TypedDict):
    response: Account


def _view(account: PartnerAccount) -> AccountResponse:
    return {
        "response": {
            "client_id": account.client_id,
            "domain": account.domain,
            "public_key_url": f"https://{account.domain}{_KEY_PATH}",
            "created_at": int(account.created_at),
            "updated_at": int(account.updated_at),
        }
    }


class PartnerRoutes:
    def __init__(self, partners: Partners) -> None:
        self._partners = partners

    async def register(self, call: Call[None, None, PartnerDomain]) -> AccountResponse:
        client_id = call.principal.claims.client_id
        return _view(await self._partners.register(client_id, call.body.domain))

    async def read(self, call: Call[None, None, None]) -> AccountResponse:
        return _view(await self._partners.get(call.principal.claims.client_id))


def mount(table: RouteTable, partners: Partners) -> None:
    routes = PartnerRoutes(partners)
    api = table.scope("/api/1/partner_accounts", guard=PARTNER, tags=("tesla",))
    api.post(
        "",
        routes.register,
        body=Body.json(PartnerDomain, max_bytes=_MAX_BODY),
        response=AccountResponse,
        summary="Register the partner app's domain",
    )
    api.get(
        "",
        routes.read,
        response=AccountResponse,
        failures=(404,),
        summary="The partner app's registration",
    )
