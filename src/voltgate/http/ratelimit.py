"""Per-app rate limits on resource routes (Tesla `/api/1`), counted in the coordination port so
every instance shares them.

Every response of a limited route carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the window ends; draft-ietf-httpapi-ratelimit-headers); past
the limit it is a 429 with `Retry-After` as well. Use it as a router dependency:

    router = APIRouter(dependencies=[Depends(set_renderer(tesla_body)), Depends(app_rate_limit)])

and build the routes' guards on `authenticated` (as `delegated` does), so FastAPI verifies the
bearer token once per request for both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request, Response

from voltgate.errors import RateLimited
from voltgate.http.adapter import EXTRA_HEADERS_KEY, admit, bearer, runtime
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.guard import Principal

authenticated = bearer()


async def count(
    request: Request, response: Response, key: str, who: str, *, prefix: str = "RateLimit-"
) -> None:
    """Count this request under `key` (VOLTGATE_API_RATE_LIMIT per VOLTGATE_API_RATE_WINDOW);
    the `{prefix}Limit|Remaining|Reset` headers on the answer, error or not; 429 past it."""
    rt = runtime(request)
    limit, window = rt.settings.api_rate_limit, rt.settings.api_rate_window
    (decision,) = await rt.coordinator.hit_many([(key, limit)], window)
    now = rt.clock.now()
    reset = max(1, int((now // window + 1) * window - now + 0.999))
    headers = {
        f"{prefix}Limit": str(limit),
        f"{prefix}Remaining": str(decision.remaining),
        f"{prefix}Reset": str(decision.retry_after or reset),
    }
    request.scope[EXTRA_HEADERS_KEY] = headers
    if not decision.allowed:
        raise RateLimited(
            f"{who} made more than {limit} requests in {window} s; "
            f"retry in {decision.retry_after} s",
            decision.retry_after,
        )
    response.headers.update(headers)


async def app_rate_limit(
    request: Request, response: Response, principal: Principal = Depends(authenticated)
) -> Principal:
    """Count this request against its app (the token's client id); 429 past the limit."""
    await count(request, response, f"api:client:{principal.claims.client_id[:128]}", "this app")
    return principal


def delegated(*scopes: str, any_of: bool = False) -> Callable[[Request], Awaitable[Principal]]:
    """A user's resource: a token the user granted (third_party, open_source), with `scopes`
    (or, with `any_of`, one of them). Another kind is 403 naming the kinds; a missing scope is
    403 naming it."""

    async def dependency(
        request: Request, principal: Principal = Depends(authenticated)
    ) -> Principal:
        return admit(principal, scopes, any_of=any_of, kinds=DELEGATED_KINDS)

    return dependency
