"""ev.energy: `/o/token` (form, Basic or body credentials) and `/o/revoke_token/`.

The revocation path requires its trailing slash, as ev.energy's does: without it, 405.
"""

from __future__ import annotations

from fastapi import FastAPI

from voltgate.dialects.canonical import revoke, token
from voltgate.errors import MethodNotAllowed, rfc_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.http.fastpath import FastRouteTable, RawRequest, RawResponse


async def revoke_without_slash(_request: RawRequest) -> RawResponse:
    raise MethodNotAllowed("the revocation URL needs its trailing slash: /o/revoke_token/")


def mount(_app: FastAPI, fast: FastRouteTable) -> None:
    fast.add("/o/token", ["POST"], oauth_endpoint(token), rfc_body)
    fast.add("/o/revoke_token/", ["POST"], oauth_endpoint(revoke), rfc_body)
    fast.add("/o/revoke_token", ["GET", "POST", "PUT", "DELETE"], revoke_without_slash, rfc_body)
