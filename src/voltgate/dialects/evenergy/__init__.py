"""ev.energy: `/o/token` (also `/o/token/`; form, Basic or body credentials),
`/o/revoke_token/`, and the resources: `/v2/charging_sessions` (a user's home-charger
sessions). The authorization endpoint
(`/o/authorize/`, and `/o/authorize` as the guide's PKCE URL writes it) is served by the web
pages.

The guide's rules hold on these paths (`identity.profiles.EVENERGY`): tokens live 10 hours
unless the app chose a lifetime; an authorization request without `scope` is for the app's
registered scopes; a PKCE verifier may be the URL-safe base64 the guide's snippet makes.
voltgate's own `/oauth/*` paths keep to RFC 7636 (43-128 unreserved characters).

The revocation path requires its trailing slash, as ev.energy's does: without it, 405.
"""

from __future__ import annotations

from voltgate.dialects.evenergy import sessions
from voltgate.errors import RFC_ERRORS, MethodNotAllowed
from voltgate.http.kept import Kept, Rendered
from voltgate.http.limits import ApiRateLimiter
from voltgate.http.oauth import TokenResponse, oauth_endpoint
from voltgate.http.routing import Body, Call, RawResponse, RouteTable
from voltgate.identity.profiles import EVENERGY
from voltgate.runtime import Runtime


async def revoke_without_slash(_call: Call[None, None, None]) -> RawResponse:
    raise MethodNotAllowed("the revocation URL needs its trailing slash: /o/revoke_token/")


def mount(table: RouteTable, rt: Runtime, kept: Kept) -> None:
    identity = rt.identity
    oauth = table.scope(errors=RFC_ERRORS, tags=("ev.energy",))
    token = oauth_endpoint(identity.token_endpoint.handle, profile=EVENERGY)
    # The guide's curls post to /o/token; /o/token/ is the same endpoint (the framework's own
    # path for it), so either spelling works.
    for path in ("/o/token", "/o/token/"):
        oauth.post(
            path,
            token,
            body=Body.oauth(),
            response=TokenResponse,
            failures=(429,),
            summary="ev.energy token endpoint (form; HTTP Basic or body credentials; PKCE)",
        )
    oauth.post(
        "/o/revoke_token/",
        oauth_endpoint(identity.revocation_endpoint.handle),
        body=Body.oauth(),
        failures=(429,),
        summary="ev.energy revocation (the trailing slash is required)",
    )
    for method in ("GET", "POST", "PUT", "DELETE"):
        oauth.add(method, "/o/revoke_token", revoke_without_slash, public=False)
    settings = rt.settings
    # The same counters as the router's limiter (they live in the coordinator), counted by
    # the handler once it knows the user the request acts for.
    limiter = ApiRateLimiter(
        rt.coordinator, rt.clock, settings.api_rate_limit, settings.api_rate_window
    )
    rendered = Rendered(kept, rt.clock)
    sessions.mount(table, rt.fleet.charging, identity.users, identity.consents, limiter, rendered)
