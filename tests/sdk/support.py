"""Grants for the SDK's tests, made the way each platform starts one, on a real voltgate
(in process, with a clock the test moves): an app, a user, and whatever the platform's sign-in
ends with (a code, a PSK session, nothing for client credentials)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import App
from voltgate.sdk.vault import AppCredentials, AsyncApiClient

REDIRECT = "https://app.example/callback"
PASSWORD = "correct horse battery"
SIGN_IN = (
    "mutation($u: String!, $p: String!) { initSession(username: $u, password: $p) "
    "{ sessionToken refreshToken expiresIn } }"
)


@dataclass
class Platform:
    profile: str
    kind: str
    scopes: str
    resource: str  # GET this with the user's bearer (or a GraphQL query for be.ENERGISED)
    rotating: bool = True

    async def check(self, client: AsyncApiClient) -> Any:
        """The resource read through the client: its body, asserting it worked."""
        if self.profile == "beenergised":
            answer = await client.graphql(self.resource)
            body = answer.json()
            assert answer.status_code == 200 and "errors" not in body, body
            return body["data"]
        response = await client.request("GET", self.resource)
        assert response.status_code == 200, response.text
        return response.json()


PLATFORMS = {
    "tesla": Platform("tesla", "third_party", "openid offline_access user_data",
                      "/api/1/users/me"),
    "evenergy": Platform("evenergy", "third_party", "charging_session:read",
                         "/v2/charging_sessions"),
    "voltgate": Platform("voltgate", "third_party", "openid offline_access profile", "/v1/me"),
    "tellus": Platform("tellus", "operator", "read write", "/v1/operator/devices",
                       rotating=False),
    "beenergised": Platform("beenergised", "beenergised_app", "contact", "{ me { id email } }"),
}  # fmt: skip


async def start_grant(
    app: App, platform: Platform, make: Callable[[AppCredentials, str], AsyncApiClient]
) -> tuple[AsyncApiClient, str]:
    """A client of `platform` for a new user, its grant in the vault; and the app's secret."""
    created = await app.rt.identity.admin.create(
        name=f"sdk {platform.profile}", kind=platform.kind, scopes=platform.scopes,
        redirect_uris=[REDIRECT] if platform.kind == "third_party" else None,
    )  # fmt: skip
    secret = created.secret or ""
    email = f"{secrets.token_hex(4)}@example.com"
    if platform.profile == "beenergised":
        client = make(AppCredentials(created.client.id), email)
        await _gql(app, secret, email)
        await client.sign_in_graphql(SIGN_IN, {"u": email, "p": PASSWORD}, bearer=secret)
        return client, secret
    credentials = AppCredentials(created.client.id, secret)
    if platform.kind == "operator":
        return make(credentials, "-"), secret
    user = await app.rt.identity.users.create(email, PASSWORD)
    client = make(credentials, user.id)
    code = await app.rt.identity.delegation.issue_code(
        client=created.client, user_id=user.id, redirect_uri=REDIRECT,
        scopes=tuple(platform.scopes.split()), auth_time=app.clock.now(),
    )  # fmt: skip
    await client.exchange_code(code, REDIRECT)
    return client, secret


async def _gql(app: App, psk: str, email: str) -> None:
    response = await app.http.post(
        "/graphql",
        json={
            "query": "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) "
            "{ profile { id } } }",
            "variables": {"p": {"name": "Ada", "email": email, "password": PASSWORD}},
        },
        headers={"Authorization": f"Bearer {psk}"},
    )
    assert "errors" not in response.json(), response.text


Maker = Callable[[AppCredentials, str], AsyncApiClient]
Check = Callable[[AsyncApiClient], Awaitable[Any]]
