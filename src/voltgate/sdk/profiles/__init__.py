"""Provider profiles: what differs between platforms' token handling, as data.

A profile is one JSON file (shipped ones here: tellus, evenergy, tesla, beenergised, voltgate);
`load_profile("tesla")` reads a shipped one, `load_profile(Path("acme.json"))` any other, so a
new platform needs a file and no code. Fields:

- `token_url` (relative to the token base URL, else the base URL), `client_auth`
  (`basic` | `form` | `json` | `none`), `body` (`form` | `json` | `graphql`, with
  `refresh_query`), `token_envelope` (dotted path to the token object in the answer, e.g.
  `data` for Tellus), `token_fields` (names of access/refresh/expires_in where they differ),
  `refresh_as_bearer` (be.ENERGISED sends the refresh token as the bearer);
- `access_ttl`, `refresh_ttl` (seconds; what the platform documents), `refresh`:
  `rotating` (single-use refresh tokens), `reusable`, or `credentials` (no refresh token:
  ask again with the client's credentials);
- `expiry`: the signals that say "this access token has expired": `{status, code}` (Tellus
  401 code 2002), `{status, error}` (RFC 6750 `invalid_token`, in the body or
  WWW-Authenticate), `{graphql_code}` (`UNAUTHENTICATED` in `errors[].extensions.code`);
- `base_urls` by region (`default_region`), `token_base_urls` where tokens come from another
  host (Tesla's auth.tesla.com), `resource_envelope` (`data`, `response`);
- `authorize_url` (on the same host as the token URL): where a user's sign-in starts (the
  authorization code flow); none for a platform without one (Tellus, be.ENERGISED).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import httpx

ClientAuth = Literal["basic", "form", "json", "none"]
BodyFormat = Literal["form", "json", "graphql"]
Refresh = Literal["rotating", "reusable", "credentials"]

_CLIENT_AUTH = ("basic", "form", "json", "none")
_BODY = ("form", "json", "graphql")
_REFRESH = ("rotating", "reusable", "credentials")
_FIELDS = {"access_token": "access_token", "refresh_token": "refresh_token",
           "expires_in": "expires_in"}  # fmt: skip


class ProfileError(ValueError):
    """A profile file that does not say what a profile must."""


@dataclass(frozen=True, slots=True)
class ExpirySignal:
    status: int | None = None
    code: int | None = None
    error: str | None = None
    graphql_code: str | None = None

    def matches(self, response: httpx.Response, body: Any) -> bool:
        if self.status is not None and response.status_code != self.status:
            return False
        if self.code is not None and not (isinstance(body, dict) and body.get("code") == self.code):
            return False
        if self.error is not None:
            in_body = isinstance(body, dict) and body.get("error") == self.error
            challenge = response.headers.get("www-authenticate", "")
            if not in_body and f'error="{self.error}"' not in challenge:
                return False
        if self.graphql_code is not None:
            errors = body.get("errors") if isinstance(body, dict) else None
            codes = {
                (e.get("extensions") or {}).get("code") for e in errors or () if isinstance(e, dict)
            }
            if self.graphql_code not in codes:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    token_url: str
    client_auth: ClientAuth
    body: BodyFormat
    access_ttl: int
    refresh: Refresh
    expiry: tuple[ExpirySignal, ...]
    base_urls: Mapping[str, str] = field(default_factory=dict)
    default_region: str = "default"
    token_base_urls: Mapping[str, str] = field(default_factory=dict)
    refresh_ttl: int | None = None
    token_envelope: str | None = None
    resource_envelope: str | None = None
    token_fields: Mapping[str, str] = field(default_factory=lambda: dict(_FIELDS))
    refresh_as_bearer: bool = False
    refresh_query: str | None = None
    revoke_url: str | None = None
    authorize_url: str | None = None
    notes: str = ""

    def base_url(self, region: str | None = None) -> str:
        region = region or self.default_region
        try:
            return self.base_urls[region]
        except KeyError:
            raise ProfileError(
                f"{self.name}: no base URL for region {region!r}; pass base_url"
            ) from None

    def token_endpoint(self, base_url: str | None = None, region: str | None = None) -> str:
        """The token URL: under `base_url` when given (one server for everything, e.g. a
        voltgate deployment), else under the region's token host or API host."""
        return self._auth_host(base_url, region) + self.token_url

    def authorize_endpoint(self, base_url: str | None = None, region: str | None = None) -> str:
        """Where a user's sign-in starts: the authorization URL, on the token URL's host."""
        if self.authorize_url is None:
            raise ProfileError(
                f"{self.name}: no authorization endpoint (this platform's users do not sign in "
                "through an authorization code flow)"
            )
        return self._auth_host(base_url, region) + self.authorize_url

    def _auth_host(self, base_url: str | None, region: str | None) -> str:
        if base_url is None:
            region = region or self.default_region
            base_url = self.token_base_urls.get(region) or self.base_url(region)
        return base_url.rstrip("/")

    def expired(self, response: httpx.Response) -> bool:
        """Whether `response` is this platform's way of saying the access token expired."""
        if response.is_success and not any(s.graphql_code for s in self.expiry):
            return False
        try:
            body = response.json()
        except ValueError:
            body = None
        return any(signal.matches(response, body) for signal in self.expiry)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Profile:
        data = dict(raw)
        for required in ("name", "token_url", "client_auth", "body", "access_ttl", "refresh"):
            if required not in data:
                raise ProfileError(f"profile {data.get('name', '?')!r} lacks {required!r}")
        _choice(data, "client_auth", _CLIENT_AUTH)
        _choice(data, "body", _BODY)
        _choice(data, "refresh", _REFRESH)
        if data["body"] == "graphql" and not data.get("refresh_query"):
            raise ProfileError(f"{data['name']}: a graphql body needs refresh_query")
        signals = data.get("expiry") or []
        if not signals:
            raise ProfileError(f"{data['name']}: no expiry signal")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ProfileError(f"{data['name']}: unknown fields {sorted(unknown)}")
        data["expiry"] = tuple(ExpirySignal(**s) for s in signals)
        data["token_fields"] = {**_FIELDS, **(data.get("token_fields") or {})}
        data.setdefault("title", data["name"])
        return cls(**data)


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    if data[key] not in allowed:
        raise ProfileError(f"{data['name']}: {key} must be one of {allowed}, not {data[key]!r}")


def profile_names() -> list[str]:
    """The profiles shipped with the SDK."""
    return sorted(
        p.name.removesuffix(".json")
        for p in resources.files(__name__).iterdir()
        if p.name.endswith(".json")
    )


def load_profile(source: str | Path) -> Profile:
    """A shipped profile by name, or a profile file (a path, or a str ending in .json)."""
    if isinstance(source, Path) or str(source).endswith(".json"):
        text = Path(source).read_text()
    else:
        if source not in profile_names():
            raise ProfileError(f"no profile {source!r}; shipped: {', '.join(profile_names())}")
        text = resources.files(__name__).joinpath(f"{source}.json").read_text()
    return Profile.from_dict(cast(dict[str, Any], json.loads(text)))
