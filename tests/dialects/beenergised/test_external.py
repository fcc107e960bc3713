"""An external IdP's access token (Auth0-style) as the bearer of the GraphQL API: a live JWKS
server on 127.0.0.1 with keys the test makes, rotated mid-test; the subject becomes a contact
on first use when the IdP may create them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.conftest import App, Backend, make_settings
from tests.fixtures.jwks import JwksServer, ec_key, rsa_key
from voltgate.app import create_app
from voltgate.clock import FrozenClock

ISSUER = "https://tenant.idp.test/"
AUDIENCE = "https://graphql.beenergised.test"
ME = "{ me { id email } }"


@pytest.fixture
def idp() -> Iterator[JwksServer]:
    server = JwksServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def app_with_idp(backend: Backend, idp: JwksServer) -> AsyncIterator[App]:
    settings = make_settings(
        backend,
        external_idp_issuer=ISSUER,
        external_idp_jwks_url=idp.url,
        external_idp_audience=AUDIENCE,
        external_idp_create_users=True,
    )
    clock = FrozenClock()
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock, application)


def mint(app: App, key: RSAKey | ECKey, alg: str, **overrides: Any) -> str:
    now = int(app.clock.now())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "auth0|ada",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,  # Auth0's 60 minutes
        "email": "ada@example.com",
        **overrides,
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


async def ask(app: App, token: str) -> dict[str, Any]:
    response = await app.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_an_idp_token_is_a_contact_and_bad_ones_are_unauthenticated(
    app_with_idp: App, idp: JwksServer
) -> None:
    app = app_with_idp
    first = rsa_key("2026-11")
    idp.publish(first)
    signed_in = await ask(app, mint(app, first, "RS256"))
    me = signed_in["data"]["me"]
    assert me["email"] == "ada@example.com" and me["id"].startswith("user")
    # The same subject is the same contact next time (and with another token).
    again = await ask(app, mint(app, first, "RS256", jti="another"))
    assert again["data"]["me"]["id"] == me["id"]
    # The IdP rotates to an ES256 key: once the key set may be fetched again (at most every
    # 30 s), a token of the new key is accepted after one refetch.
    second = ec_key("2026-12")
    idp.publish(first, second)
    app.clock.advance(31)
    fetches = idp.fetches
    assert (await ask(app, mint(app, second, "ES256")))["data"]["me"]["id"] == me["id"]
    assert idp.fetches == fetches + 1
    now = int(app.clock.now())
    refused = {
        "expired": mint(app, second, "ES256", iat=now - 7200, exp=now - 3600),
        "wrong audience": mint(app, second, "ES256", aud="https://someone.else"),
        "wrong issuer": mint(app, second, "ES256", iss="https://evil.idp.test/"),
        "unknown key": mint(app, ec_key("never-published"), "ES256"),
    }
    for why, token in refused.items():
        body = await ask(app, token)
        assert codes(body) == ["UNAUTHENTICATED"], (why, body)
        assert body.get("data") is None, why
    # An expired token becomes unauthenticated even after it was accepted once.
    short = mint(app, second, "ES256", exp=now + 60, jti="short")
    assert "errors" not in await ask(app, short)
    app.clock.advance(120)
    assert codes(await ask(app, short)) == ["UNAUTHENTICATED"]
