"""Partner endpoints: `POST`/`GET /api/1/partner_accounts` (register the domain hosting the
app's public key; registering downloads and checks that key) and `GET
/api/1/partner_accounts/public_key?domain=`, for a partner token: the client credentials of a
`partner` app, or of a `third_party` app (Tesla's partner token is the app's own client
credentials token, so the app whose users pair its key registers it). A user's token, or a
token of another kind, is 403 naming what is needed.

`GET /.well-known/appspecific/com.tesla.3p.public-key.pem` serves, to anyone, the key of the
app voltgate hosts (`voltgate keys app generate --client-id`): as a PEM file, never redirected,
cached for minutes only and with an ETag, so a rotated key is seen soon.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.errors import Forbidden, NotFound
from voltgate.http.guards import Guard
from voltgate.http.limits import PER_APP
from voltgate.http.routing import Body, Call, RawResponse, RouteTable
from voltgate.identity.appkeys import KEY_PATH, PEM_MEDIA_TYPE, pem_of
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.identity.partners import PartnerAccount, Partners

PARTNER = Guard(kinds=(ClientKind.PARTNER.value, ClientKind.THIRD_PARTY.value))
# {"domain": …}: 253 characters, 12 bytes each at worst (\u-escaped surrogate pairs).
_MAX_BODY = 4_096
# Minutes: a rotated key reaches a client that revalidates (ETag) within five.
_PEM_CACHE = b"public, max-age=300, must-revalidate"


class PartnerDomain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(
        min_length=1,
        max_length=253,
        description="e.g. fleet.example.com (in a sandbox also a loopback address with a port)",
    )


class KeyQuery(BaseModel):
    domain: str = Field(min_length=1, max_length=253)


class Account(TypedDict):
    client_id: str
    domain: str
    public_key_url: str
    public_key: str | None
    created_at: int
    updated_at: int


class AccountResponse(TypedDict):
    response: Account


class PublicKey(TypedDict):
    public_key: str


class PublicKeyResponse(TypedDict):
    response: PublicKey


def _view(account: PartnerAccount) -> AccountResponse:
    return {
        "response": {
            "client_id": account.client_id,
            "domain": account.domain,
            "public_key_url": Partners.key_url(account.domain),
            "public_key": None if account.public_key is None else account.public_key.hex(),
            "created_at": int(account.created_at),
            "updated_at": int(account.updated_at),
        }
    }


def _app(principal: Principal) -> str:
    """The calling app, when the token is the app's own (client credentials), not a user's."""
    claims = principal.claims
    if claims.subject != claims.client_id:
        raise Forbidden(
            "this endpoint needs a partner token (the app's client credentials); "
            "this token acts for a user"
        )
    return claims.client_id


class PartnerRoutes:
    def __init__(self, partners: Partners) -> None:
        self._partners = partners

    async def register(self, call: Call[None, None, PartnerDomain]) -> AccountResponse:
        client_id = _app(call.principal)
        return _view(await self._partners.register(client_id, call.body.domain))

    async def read(self, call: Call[None, None, None]) -> AccountResponse:
        return _view(await self._partners.get(_app(call.principal)))

    async def public_key(self, call: Call[None, KeyQuery, None]) -> PublicKeyResponse:
        _app(call.principal)
        point = await self._partners.public_key(call.query.domain)
        return {"response": {"public_key": point.hex()}}

    async def hosted_pem(self, call: Call[None, None, None]) -> RawResponse:
        account = await self._partners.hosted()
        if account is None or account.public_key is None:
            raise NotFound("voltgate hosts no app's public key")
        pem = pem_of(account.public_key)
        etag = f'"{hashlib.sha256(pem).hexdigest()[:32]}"'.encode()
        headers = [(b"cache-control", _PEM_CACHE), (b"etag", etag)]
        if etag in _tags(call.request.header(b"if-none-match")):
            return RawResponse(304, b"", headers)
        return RawResponse(200, pem, [(b"content-type", PEM_MEDIA_TYPE.encode()), *headers])


def _tags(header: str | None) -> set[bytes]:
    if header is None:
        return set()
    return {tag.strip().removeprefix("W/").encode() for tag in header.split(",")}


def mount(table: RouteTable, partners: Partners) -> None:
    """`table` carries the dialect's error body. The API routes count against the app's limit
    (a registration makes the server download from the domain); the PEM is anyone's."""
    routes = PartnerRoutes(partners)
    api = table.scope("/api/1/partner_accounts", guard=PARTNER, tags=("tesla",), limit=PER_APP)
    api.post(
        "",
        routes.register,
        body=Body.json(PartnerDomain, max_bytes=_MAX_BODY),
        response=AccountResponse,
        failures=(409,),
        summary="Register the app's domain: its hosted public key is downloaded and checked",
        description=(
            "400 `invalid_public_key` names what is wrong with the key at "
            f"`https://<domain>{KEY_PATH}`: a redirect (never followed), an HTTP status "
            "other than 200, HTML, not PEM, not a P-256 key, too big, a timeout, unreachable. "
            "409 when another app holds the domain."
        ),
    )
    api.get(
        "",
        routes.read,
        response=AccountResponse,
        failures=(404,),
        summary="The app's registration",
    )
    api.get(
        "/public_key",
        routes.public_key,
        query=KeyQuery,
        response=PublicKeyResponse,
        failures=(404,),
        summary="The public key registered for a domain (the uncompressed P-256 point, hex)",
    )
    table.get(
        KEY_PATH,
        routes.hosted_pem,
        response=str,
        media=PEM_MEDIA_TYPE,
        failures=(404,),
        tags=("tesla",),
        summary="The public key of the app voltgate hosts (304 on a matching If-None-Match)",
    )
