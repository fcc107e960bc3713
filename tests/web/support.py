"""A scripted browser for the sign-in and consent pages: reads forms, posts them, keeps cookies."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from voltgate.identity import pkce

REDIRECT = "https://app.example/callback"
PASSWORD = "correct horse battery staple"


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.setdefault(a["name"], []).append(a.get("value", ""))


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """One authorization request driven through the pages like a browser would."""

    http: httpx.AsyncClient
    client_id: str
    scope: str | None = "openid offline_access vehicle_device_data"
    redirect_uri: str = REDIRECT
    verifier: str | None = "v" * 43  # None: no PKCE
    state: str | None = "st-123"
    nonce: str | None = "n-456"
    path: str = "/oauth/authorize"

    def url(self, **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": pkce.s256(self.verifier) if self.verifier else None,
            "code_challenge_method": "S256" if self.verifier else None,
            **extra,
        }
        return f"{self.path}?{urlencode({k: v for k, v in params.items() if v is not None})}"

    async def start(self, **extra: str) -> httpx.Response:
        return await self.http.get(self.url(**extra))

    async def sign_in(
        self, page: httpx.Response, email: str, password: str = PASSWORD
    ) -> httpx.Response:
        form = next(f for f in forms(page.text) if f.action == "/login")
        response = await self.http.post(
            "/login", data={**form.fields, "email": email, "password": password}
        )
        if response.status_code == 303:  # back to the authorization request
            return await self.http.get(response.headers["location"])
        return response

    async def decide(self, page: httpx.Response, decision: str = "allow") -> httpx.Response:
        form = next(f for f in forms(page.text) if f.action == "/oauth/authorize/decision")
        return await self.http.post(form.action, data={**form.fields, "decision": decision})

    async def code(self, email: str, **extra: str) -> str:
        """Sign in (if asked), allow (if asked) and return the code from the redirect."""
        response = await self.start(**extra)
        if response.status_code == 200 and "Sign in" in response.text:
            response = await self.sign_in(response, email)
        if response.status_code == 200 and "Authorize" in response.text:
            response = await self.decide(response)
        assert response.status_code == 302, response.text
        params = query(response.headers["location"])
        assert params.get("state") == self.state
        return params["code"]
