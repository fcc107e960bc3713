"""Signed requests over HTTP: the bearer guard, then `X-Signature` checked by `RequestVerifier`
with the caller's own mode (`Client.signing`) and secrets.

The signed PATH is the request target as sent (raw path, plus `?query` if any) and the BODY
the raw bytes; see `voltgate.sdk.signer` for the canonical string.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request

from voltgate.errors import InvalidToken
from voltgate.http.adapter import runtime
from voltgate.identity.guard import Principal

Guard = Callable[[Request], Awaitable[Principal]]


def request_target(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query: bytes = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def signed(guard: Guard, *, sensitive: bool) -> Callable[..., Awaitable[Principal]]:
    """`guard`, and the request's signature verified for the client it authenticated."""

    async def dependency(request: Request, principal: Principal = Depends(guard)) -> Principal:
        rt = runtime(request)
        client_id = principal.claims.client_id
        client = await rt.clients.get(client_id)
        if client is None:
            raise InvalidToken("the client of this access token no longer exists")
        signature = request.headers.get("x-signature")
        timestamp = request.headers.get("x-timestamp")
        # Unsigned requests (the common case) never open a sealed secret.
        sealed = [] if signature is None else await rt.admin.signing_secrets(client_id)
        await rt.verifier.verify(
            mode=client.signing,
            sensitive=sensitive,
            method=request.method,
            path=request_target(request),
            body=await request.body(),
            timestamp=timestamp,
            signature=signature,
            sealed_secrets=sealed,
        )
        return principal

    return dependency
