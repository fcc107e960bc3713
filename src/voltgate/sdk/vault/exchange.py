"""Talking to a platform's token endpoint the way its profile says: client authentication,
body format, envelope, field names; and telling a refused grant from other failures."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from voltgate.sdk.profiles import Profile
from voltgate.sdk.vault.records import Tokens


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str | None = None  # none for a public app (PKCE), or be.ENERGISED's PSK

    def __repr__(self) -> str:
        return f"AppCredentials({self.client_id!r}, …)"


class TokenEndpointError(Exception):
    """The token endpoint said no for another reason than the grant (a wrong client secret,
    a rate limit, a server error): the grant is kept and the next refresh tries again."""

    def __init__(self, status: int, error: str | None, description: str | None) -> None:
        super().__init__(f"token endpoint: HTTP {status} {error or ''} {description or ''}")
        self.status = status
        self.error = error
        self.description = description


class GrantRejected(TokenEndpointError):
    """`invalid_grant` (or GraphQL UNAUTHENTICATED on a refresh): the refresh token is dead."""


def _dig(body: Any, path: str | None) -> Any:
    for part in (path or "").split(".") if path else ():
        if not isinstance(body, dict):
            return None
        if part == "*":  # the only field there (a GraphQL answer's one mutation)
            body = next(iter(body.values()), None) if len(body) == 1 else None
        else:
            body = body.get(part)
    return body


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def call_token_endpoint(
    http: httpx.AsyncClient,
    profile: Profile,
    url: str,
    app: AppCredentials,
    params: Mapping[str, str],
    *,
    now: float,
    correlation_id: str,
    bearer: str | None = None,
    query: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Tokens:
    """One token request; `query` for a GraphQL profile (the refresh mutation by default)."""
    headers = {"X-Request-Id": correlation_id, "Accept": "application/json"}
    fields: dict[str, str] = dict(params)
    if profile.client_auth == "basic" and app.client_secret is not None:
        headers["Authorization"] = "Basic " + _b64(f"{app.client_id}:{app.client_secret}")
    elif profile.client_auth in ("form", "json"):
        fields["client_id"] = app.client_id
        if app.client_secret is not None:
            fields["client_secret"] = app.client_secret
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if profile.body == "graphql":
        document: dict[str, Any] = {"query": query or profile.refresh_query}
        if variables:
            document["variables"] = dict(variables)
        response = await http.post(url, json=document, headers=headers)
    elif profile.body == "json":
        response = await http.post(url, json=fields, headers=headers)
    else:
        response = await http.post(url, data=fields, headers=headers)
    return _tokens(profile, response, now)


def _tokens(profile: Profile, response: httpx.Response, now: float) -> Tokens:
    try:
        body = response.json()
    except ValueError:
        body = None
    if profile.body == "graphql" and isinstance(body, dict) and body.get("errors"):
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        code = (first.get("extensions") or {}).get("code")
        error = GrantRejected if code == "UNAUTHENTICATED" else TokenEndpointError
        raise error(response.status_code, str(code), str(first.get("message", "")))
    if not response.is_success:
        error_code = body.get("error") if isinstance(body, dict) else None
        description = (
            body.get("error_description") or body.get("message")
            if isinstance(body, dict)
            else response.reason_phrase
        )
        kind = GrantRejected if error_code == "invalid_grant" else TokenEndpointError
        raise kind(response.status_code, error_code, str(description or ""))
    found = _dig(body, profile.token_envelope)
    names = profile.token_fields
    if not isinstance(found, dict) or not found.get(names["access_token"]):
        raise TokenEndpointError(response.status_code, "malformed", "no access token in answer")
    expires_in = found.get(names["expires_in"]) or profile.access_ttl
    refresh = found.get(names["refresh_token"])
    scope = found.get("scope")
    return Tokens(
        str(found[names["access_token"]]),
        str(refresh) if refresh else None,
        now + float(expires_in),
        str(scope) if scope else None,
    )
