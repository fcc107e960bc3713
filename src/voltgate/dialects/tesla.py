"""Tesla Fleet API: `/oauth2/v3/authorize`, `/oauth2/v3/token`, the third-party OpenID discovery
document and the partner endpoints, `{"response": …}` bodies.

Partner endpoints need a partner token (client credentials of a `partner` client); any other
kind gets 403 naming the kind it needs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field

from voltgate.dialects.canonical import openid_metadata, token
from voltgate.energy import endpoints as energy
from voltgate.errors import VoltgateError, resource_body, rfc_body
from voltgate.http.adapter import bearer, oauth_endpoint, runtime, set_renderer
from voltgate.http.fastpath import FastRouteTable
from voltgate.identity.guard import Principal
from voltgate.identity.metadata import EndpointPaths
from voltgate.identity.partners import PartnerAccount
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
    account = await runtime(request).partners.register(principal.claims.client_id, body.domain)
    return _view(account)


@router.get("/api/1/partner_accounts", summary="The partner app's registration")
async def read_partner(request: Request, principal: Principal = Depends(partner)) -> dict[str, Any]:
    return _view(await runtime(request).partners.get(principal.claims.client_id))


def mount(app: FastAPI, fast: FastRouteTable) -> None:
    fast.add("/oauth2/v3/token", ["POST"], oauth_endpoint(token), rfc_body)
    fast.add(
        "/oauth2/v3/thirdparty/.well-known/openid-configuration",
        ["GET"],
        openid_metadata(PATHS),
        resource_body,
    )
    mount_authorize(app, PATHS.authorization)
    app.include_router(router)
    app.include_router(energy.router, dependencies=[Depends(set_renderer(tesla_body))])
    app.include_router(vehicles.router, dependencies=[Depends(set_renderer(tesla_body))])
