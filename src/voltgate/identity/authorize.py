"""The authorization endpoint's request (RFC 6749 §4.1.1, PKCE RFC 7636 §4.3, OIDC Core §3.1.2).

Validation runs in the order §4.1.2.1 demands: until the client and its redirect URI are known
to be genuine, every error is shown to the user (`UntrustedRequest`) and nothing is redirected;
after that, errors go back to the client in the redirect (`RedirectError`), with `state`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from voltgate.errors import InvalidRequest, InvalidScope, VoltgateError
from voltgate.identity import pkce
from voltgate.identity import scopes as scope_rules
from voltgate.identity.clients import Client, ClientRegistry
from voltgate.identity.profiles import CORE, Profile

PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_STATE = 2048
MAX_NONCE = 512


class UntrustedRequest(Exception):
    """The client or redirect URI cannot be trusted: show the error, never redirect."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class RedirectError(Exception):
    """An error the client is told about in its redirect (§4.1.2.1)."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompt: frozenset[str]
    max_age: int | None
    params: tuple[tuple[str, str], ...]  # as received, to resume the request after sign-in

    def wants(self, prompt: str) -> bool:
        return prompt in self.prompt

    def resume_query(self) -> str:
        """The query to come back to after signing in: without what asked for the sign-in."""
        kept = []
        for name, value in self.params:
            if name == "max_age":
                continue
            if name == "prompt":
                value = " ".join(p for p in value.split() if p not in ("login", "select_account"))
                if not value:
                    continue
            kept.append((name, value))
        return urlencode(kept)


def redirect_to(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """`redirect_uri` with `params` added to its query, keeping the registered query (§3.1.2)."""
    parts = urlsplit(redirect_uri)
    extra = urlencode([(k, v) for k, v in params.items() if v is not None])
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(f"{name} must not be repeated (RFC 6749 §3.1)")
    return values[0]


async def validate(
    params: Mapping[str, list[str]], registry: ClientRegistry, profile: Profile = CORE
) -> AuthorizationRequest:
    """The request as the authorization endpoint at `profile`'s path reads it."""
    client, redirect_uri = await _trusted(params, registry)
    state_values = params.get("state") or []
    state = state_values[0] if len(state_values) == 1 else None
    try:
        return _validate_rest(params, client, redirect_uri, profile)
    except VoltgateError as exc:
        raise RedirectError(exc.error, exc.description, redirect_uri, state) from None


async def _trusted(params: Mapping[str, list[str]], registry: ClientRegistry) -> tuple[Client, str]:
    try:
        client_id = _single(params, "client_id")
        redirect_uri = _single(params, "redirect_uri")
    except InvalidRequest as exc:
        raise UntrustedRequest("invalid_request", exc.description) from None
    if not client_id:
        raise UntrustedRequest("invalid_request", "client_id is missing")
    client = await registry.get(client_id) if len(client_id) <= 128 else None
    if client is None or client.disabled:
        raise UntrustedRequest("invalid_client", "this app is unknown or has been disabled")
    if client.awaiting_approval:
        raise UntrustedRequest(
            "unauthorized_client", "this app is waiting for an administrator's approval"
        )
    if not redirect_uri:
        raise UntrustedRequest("invalid_request", "redirect_uri is missing")
    # Exact string comparison (RFC 6749 §3.1.2.3, OAuth 2.1 §2.3.1): no prefix, no
    # normalisation of case, port, path or query.
    if redirect_uri not in client.redirect_uris:
        raise UntrustedRequest("invalid_request", "redirect_uri is not registered for this app")
    return client, redirect_uri


def _validate_rest(
    params: Mapping[str, list[str]], client: Client, redirect_uri: str, profile: Profile
) -> AuthorizationRequest:
    for name, values in params.items():
        if len(values) > 1:
            raise InvalidRequest(f"{name} must not be repeated (RFC 6749 §3.1)")
    get = {name: values[0] for name, values in params.items()}
    if "request" in get or "request_uri" in get:
        raise _NotSupported("request objects are not supported")
    response_type = get.get("response_type")
    if not response_type:
        raise InvalidRequest("response_type is missing")
    if response_type != "code":
        raise _UnsupportedResponseType("only response_type=code is supported")
    if get.get("response_mode", "query") != "query":
        raise InvalidRequest("only response_mode=query is supported")
    if "authorization_code" not in client.grant_types:
        raise _UnauthorizedClient("this app may not use the authorization code flow")
    state = get.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise InvalidRequest(f"state is longer than {MAX_STATE} characters")
    nonce = get.get("nonce")
    if nonce is not None and len(nonce) > MAX_NONCE:
        raise InvalidRequest(f"nonce is longer than {MAX_NONCE} characters")
    requested = scope_rules.parse(get.get("scope"))
    if not requested and profile.scopes_by_default:
        # Named in the request kept for the consent form and the sign-in's return, so the
        # rest of the flow reads it like any other.
        requested = client.scopes
        get["scope"] = " ".join(client.scopes)
    if not requested:
        raise InvalidScope("scope is missing: name what the app needs")
    scopes = scope_rules.narrow(requested, client.scopes)
    challenge = pkce.check_challenge(get.get("code_challenge"), get.get("code_challenge_method"))
    if challenge is None and client.kind.is_public:
        raise InvalidRequest("PKCE is required for this app: send code_challenge (S256)")
    prompt = frozenset(get.get("prompt", "").split())
    if prompt - PROMPTS:
        raise InvalidRequest(f"unknown prompt value: {' '.join(sorted(prompt - PROMPTS))}")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    max_age = _max_age(get.get("max_age"))
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        prompt=prompt,
        max_age=max_age,
        params=tuple((k, v) for k, v in get.items()),
    )


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest("max_age must be a non-negative number of seconds")
    return int(value)


class _UnsupportedResponseType(InvalidRequest):
    error = "unsupported_response_type"


class _UnauthorizedClient(InvalidRequest):
    error = "unauthorized_client"


class _NotSupported(InvalidRequest):
    error = "request_not_supported"
