"""Tesla Fleet API: `/oauth2/v3/authorize`, `/oauth2/v3/token`, the third-party OpenID discovery
document and the partner endpoints, `{"response": …}` bodies.

Partner endpoints need a partner token (client credentials of a `partner` client); any other
kind gets 403 naming the kind it needs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field

from voltgate.dialects.canonical.oauth import OAuth
from voltgate.energy import endpoints as energy
from voltgate.errors import RESOURCE_ERRORS, RFC_ERRORS, VoltgateError
from voltgate.http.adapter import bearer, runtime, set_renderer
from voltgate.http.oauth import TokenResponse
from voltgate.http.routing import Body, RouteTable
from voltgate.identity.guard import Principal
from voltgate.identity.metadata import EndpointPaths
from voltgate.identity.partners import PartnerAccount
from voltgate.runtime import Runtime
from voltgate.vehicles import endpoints as vehicles
from voltgate.web.pages import mount_authorize

PATHS = EndpointPaths(authorization="/oauth2/v3/authorize", token="/oauth2/v3/token")  # noqa: S106


def tesla_body(exc: VoltgateError) -> dict[str, Any]:
    return {
        "response": None,
        "error": exc.error,
        "error_description": exc.description,
        "code": exc.code,
    }


router = APIRouter(tags=["tesla"], dependencies=[Depends(set_renderer(tesla_body))])


class PartnerDomain(BaseModel):
    domain: str = Field(min_length=1, max_length=253)


def _view(account: PartnerAccount) -> dict[str, Any]:
    return {
        "response": {
            "client_id": account.client_id,
            "domain": account.domain,
            "public_key_url": (
                f"https://{account.domain}/.well-known/appspecific/com.tesla.3p.public-key.pem"
            ),
            "created_at": int(account.created_at),
            "updated_at": int(account.updated_at),
        }
    }


async def partner(principal: Principal = Depends(bearer())) -> Principal:
    principal.require_kind("partner")
    return principal


@router.post("/api/1/partner_accounts", summary="Register the partner app's domain")
async def register_partner(
    body: PartnerDomain, request: Request, principal: Principal = Depends(partner)
) -> dict[str, Any]:
    account = await runtime(request).identity.partners.register(
        principal.claims.client_id, body.domain
    )
    return _view(account)


@router.get("/api/1/partner_accounts", summary="The partner app's registration")
async def read_partner(request: Request, principal: Principal = Depends(partner)) -> dict[str, Any]:
    return _view(await runtime(request).identity.partners.get(principal.claims.client_id))


def mount(table: RouteTable, rt: Runtime) -> None:
    identity = rt.identity
    oauth = OAuth(identity, rt.settings.issuer)
    table.post(
        "/oauth2/v3/token",
        oauth.token,
        errors=RFC_ERRORS,
        body=Body.oauth(),
        response=TokenResponse,
        failures=(429,),
        tags=("tesla",),
        summary="Tesla token endpoint",
    )
    table.get(
        "/oauth2/v3/thirdparty/.well-known/openid-configuration",
        oauth.openid_metadata(PATHS),
        errors=RESOURCE_ERRORS,
        response=dict[str, Any],
        tags=("tesla",),
        summary="Tesla third-party OpenID Provider metadata",
    )


def legacy(app: FastAPI) -> None:
    mount_authorize(app, PATHS.authorization)
    app.include_router(router)
    app.include_router(energy.router, dependencies=[Depends(set_renderer(tesla_body))])
    app.include_router(vehicles.router, dependencies=[Depends(set_renderer(tesla_body))])
