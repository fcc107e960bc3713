"""ev.energy: `/o/authorize/`, `/o/token` (form, Basic or body credentials), `/o/revoke_token/`,
and the resources: `/v2/charging_sessions` (a user's home-charger sessions).

The revocation path requires its trailing slash, as ev.energy's does: without it, 405.
"""

from __future__ import annotations

from fastapi import FastAPI

from voltgate.charging import evenergy as sessions
from voltgate.dialects.canonical import revoke, token
from voltgate.errors import MethodNotAllowed, rfc_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.http.fastpath import FastRouteTable, RawRequest, RawResponse
from voltgate.web.pages import mount_authorize


async def revoke_without_slash(_request: RawRequest) -> RawResponse:
    raise MethodNotAllowed("the revocation URL needs its trailing slash: /o/revoke_token/")


def mount(app: FastAPI, fast: FastRouteTable) -> None:
    mount_authorize(app, "/o/authorize/")
    fast.add("/o/token", ["POST"], oauth_endpoint(token), rfc_body)
    fast.add("/o/revoke_token/", ["POST"], oauth_endpoint(revoke), rfc_body)
    fast.add("/o/revoke_token", ["GET", "POST", "PUT", "DELETE"], revoke_without_slash, rfc_body)
    app.include_router(sessions.router)
