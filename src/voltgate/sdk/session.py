"""One authenticated conversation with a voltgate server: JSON in, the Tellus envelope's `data`
out, a bearer token from a `TokenManager`, optional request signing, and the one retry that a
401 code 2002 (token expired) calls for."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from voltgate.sdk.errors import ApiError
from voltgate.sdk.signer import Signer
from voltgate.sdk.tokens import TokenManager

TOKEN_EXPIRED = 2002


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def unwrap(response: httpx.Response) -> Any:
    """The envelope's `data` of a 2xx answer (the body itself if it is not an envelope)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        if isinstance(body, dict) and "data" in body and body.get("code") == 0:
            return body["data"]
        return body
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    raise ApiError(
        response.status_code,
        code if isinstance(code, int) else None,
        str(message or response.reason_phrase or "error"),
        body,
    )


class Session:
    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenManager | None = None,
        signer: Callable[[], Signer | None] | None = None,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self._signer = signer

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        timeout: float | None = None,
    ) -> Any:
        content = b"" if body is None else _dumps(body)
        for attempt in (1, 2):
            token = None
            sent = (
                {"Content-Type": "application/json", **(headers or {})}
                if body is not None
                else dict(headers or {})
            )
            if authenticated and self.tokens is not None:
                token = await self.tokens.token()
                sent["Authorization"] = f"Bearer {token}"
            request = self.http.build_request(
                method,
                path,
                content=content or None,
                params=params,
                headers=sent,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            signer = self._signer() if self._signer is not None else None
            if signer is not None:
                target = request.url.raw_path.decode("ascii")
                request.headers.update(signer.headers(method, target, content))
            response = await self.http.send(request)
            if token is not None and attempt == 1 and _expired(response):
                assert self.tokens is not None
                await self.tokens.expired(token)
                continue
            return unwrap(response)
        raise AssertionError("unreachable")  # pragma: no cover


def _expired(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == TOKEN_EXPIRED
