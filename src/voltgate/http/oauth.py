"""OAuth endpoints over the router: the body's parameters (form, or a JSON object of strings)
and the caller's credentials as the protocol core's `OAuthRequest`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NotRequired

from typing_extensions import TypedDict

from voltgate.http.body import parse_params
from voltgate.http.routing import NO_STORE, Call, Handler, RawResponse, json
from voltgate.identity.profiles import CORE, Profile
from voltgate.identity.requests import OAuthRequest

Action = Callable[[OAuthRequest], Awaitable[Any]]
Shape = Callable[[Any], Any]


class TokenResponse(TypedDict):
    """RFC 6749 §5.1 (and OpenID Connect Core §3.1.3.3)."""

    access_token: str
    token_type: str
    expires_in: int
    scope: NotRequired[str]
    refresh_token: NotRequired[str]
    id_token: NotRequired[str]


def oauth_request(
    call: Call[Any, Any, bytes], *, allow_json: bool = True, profile: Profile = CORE
) -> OAuthRequest:
    request = call.request
    return OAuthRequest(
        params=parse_params(call.body, request.header(b"content-type"), allow_json=allow_json),
        authorization=request.header(b"authorization"),
        address=request.address,
        request_id=request.request_id,
        profile=profile,
    )


def oauth_endpoint(
    action: Action, *, shape: Shape | None = None, profile: Profile = CORE
) -> Handler:
    """A handler running `action` on the request's OAuth parameters (under the rules of
    `profile`, the dialect's path); never cached."""

    async def endpoint(call: Call[Any, Any, bytes]) -> RawResponse:
        result = await action(oauth_request(call, profile=profile))
        if result is None:
            return RawResponse(200, b"", list(NO_STORE))
        return json(shape(result) if shape else result, 200, NO_STORE)

    return endpoint
