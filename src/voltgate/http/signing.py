"""Signed requests over HTTP: the bearer guard, then `X-Signature` checked by `RequestVerifier`
with the caller's own mode (`Client.signing`) and secrets.

The signed PATH is the request target as sent (raw path, plus `?query` if any) and the BODY
the raw bytes; see `voltgate.sdk.signer` for the canonical string. `signed()` is the FastAPI
dependency; fast-path handlers call `verify_signature` with `request_target(request.scope)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Depends, Request

from voltgate.errors import InvalidToken
from voltgate.http.adapter import runtime
from voltgate.identity.guard import Principal
from voltgate.runtime import Runtime

Guard = Callable[[Request], Awaitable[Principal]]


def request_target(scope: Mapping[str, Any]) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope["path"])
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


async def verify_signature(
    rt: Runtime,
    client_id: str,
    *,
    sensitive: bool,
    method: str,
    target: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
) -> bool:
    """True if signed and verified, False if unsigned and allowed; else InvalidSignature."""
    client = await rt.identity.clients.get(client_id)
    if client is None:
        raise InvalidToken("the client of this access token no longer exists")
    # Unsigned requests (the common case) never open a sealed secret.
    sealed = [] if signature is None else await rt.identity.admin.signing_secrets(client_id)
    return await rt.identity.verifier.verify(
        mode=client.signing,
        sensitive=sensitive,
        method=method,
        path=target,
        body=body,
        timestamp=timestamp,
        signature=signature,
        sealed_secrets=sealed,
    )


def signed(guard: Guard, *, sensitive: bool) -> Callable[..., Awaitable[Principal]]:
    """`guard`, and the request's signature verified for the client it authenticated."""

    async def dependency(request: Request, principal: Principal = Depends(guard)) -> Principal:
        await verify_signature(
            runtime(request),
            principal.claims.client_id,
            sensitive=sensitive,
            method=request.method,
            target=request_target(request.scope),
            body=await request.body(),
            timestamp=request.headers.get("x-timestamp"),
            signature=request.headers.get("x-signature"),
        )
        return principal

    return dependency
