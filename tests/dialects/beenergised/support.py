"""Helpers for the be.ENERGISED tests: an app with its pre-shared key, a contact, a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import App

PASSWORD = "correct horse battery"


@dataclass
class Answer:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        assert "errors" not in self.body, self.body
        return self.body["data"]

    @property
    def codes(self) -> list[str]:
        return [e["extensions"]["code"] for e in self.body.get("errors", [])]


async def gql(
    app: App,
    query: str,
    bearer: str | None = None,
    variables: dict[str, Any] | None = None,
    **headers: str,
) -> Answer:
    sent = dict(headers)
    if bearer is not None:
        sent["Authorization"] = f"Bearer {bearer}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = await app.http.post("/graphql", json=body, headers=sent)
    return Answer(response.status_code, response.json(), response.headers)


async def psk(app: App) -> str:
    created = await app.rt.identity.admin.create(
        name="be app", kind="beenergised_app", scopes="contact"
    )
    assert created.secret is not None
    return created.secret


async def contact(app: App, key: str, email: str = "ada@example.com") -> dict[str, Any]:
    registered = await gql(
        app,
        "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) "
        "{ profile { id name email } } }",
        key,
        {"p": {"name": "Ada", "email": email, "password": PASSWORD}},
    )
    profile: dict[str, Any] = registered.data["registerContact"]["profile"]
    return profile


async def session(app: App, key: str, login: str = "ada@example.com") -> dict[str, Any]:
    started = await gql(
        app,
        "mutation($u: String!, $p: String!) { initSession(username: $u, password: $p) "
        "{ sessionToken refreshToken expiresIn } }",
        key,
        {"u": login, "p": PASSWORD},
    )
    pair: dict[str, Any] = started.data["initSession"]
    return pair
