"""The signed-in user's connected apps as JSON: what `/account/apps` shows, for apps and scripts.

Needs a token a person granted (third_party or open_source kind); a machine token has no user.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from voltgate.errors import NotFound
from voltgate.http.adapter import bearer, request_id, runtime
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.guard import Principal

router = APIRouter(prefix="/v1/me", tags=["account"])


async def person(principal: Principal = Depends(bearer())) -> Principal:
    principal.require_kind(*DELEGATED_KINDS)
    return principal


@router.get("/apps", summary="Apps the user has granted access to")
async def list_apps(request: Request, principal: Principal = Depends(person)) -> dict[str, Any]:
    apps = await runtime(request).consents.apps(principal.claims.subject)
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


@router.delete(
    "/apps/{client_id}",
    status_code=204,
    summary="Disconnect an app: its tokens for this user stop working at once",
)
async def disconnect_app(
    client_id: str, request: Request, principal: Principal = Depends(person)
) -> Response:
    found = await runtime(request).consents.disconnect(
        principal.claims.subject,
        client_id[:128],
        request_id=request_id(request),
        address=request.client.host if request.client else None,
    )
    if not found:
        raise NotFound(f"no connected app {client_id[:128]!r}")
    return Response(status_code=204)
