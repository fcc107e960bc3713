"""Helpers for live-server tests: the plain HTTP calls a client makes, and bounded waits."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import orjson

T = TypeVar("T")


def token_response(base_url: str, client_id: str, secret: str, **headers: str) -> httpx.Response:
    """client_credentials at /oauth/token with HTTP Basic (RFC 6749 §2.3.1)."""
    return httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers=headers,
        timeout=10,
    )


def access_token(base_url: str, client_id: str, secret: str) -> str:
    response = token_response(base_url, client_id, secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def me(base_url: str, token: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/v1/me", headers={"Authorization": f"Bearer {token}", **headers}, timeout=10
    )


def jwt_header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    padded = segment + "=" * (-len(segment) % 4)
    header: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(padded))
    return header


def jwks(base_url: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/.well-known/jwks.json", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(
    probe: Callable[[], T], done: Callable[[T], bool], *, within: float = 3.0, step: float = 0.02
) -> T:
    """Call `probe` until `done(result)` or the deadline passes; return the last result."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(step)
