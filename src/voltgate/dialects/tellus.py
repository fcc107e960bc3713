"""Tellus Open Platform: JSON token request, `{code, message, data}` envelope, numeric codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.dialects.canonical import token
from voltgate.errors import tellus_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.http.fastpath import FastRouteTable


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def token_envelope(token: dict[str, Any]) -> dict[str, Any]:
    # The Tellus guide's own sample reads `access_token`/`expires_in` from the top level while
    # its error contract is the envelope: both shapes are served so either client works.
    return {**envelope(token), **token}


def mount(_app: FastAPI, fast: FastRouteTable) -> None:
    fast.add(
        "/v1/operator/oauth/token",
        ["POST"],
        oauth_endpoint(token, shape=token_envelope),
        tellus_body,
    )
