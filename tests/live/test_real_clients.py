"""OAuth clients written by others get tokens from a live server and use them on /v1/me."""

from __future__ import annotations

import time

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from joserfc import jwt
from joserfc.jwk import KeySet
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from tests.fixtures.live import LiveServer
from tests.live.support import access_token, jwks, jwt_header, me


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_authlib_oauth2_client_gets_and_uses_a_token(live: LiveServer, auth_method: str) -> None:
    creds = live.create_client()
    # Authlib's httpx integration wants the separate `httpx2` package; its requests one is the same
    # OAuth2Client logic (authlib.oauth2.client) over requests.
    with AuthlibSession(
        creds["client_id"],
        creds["client_secret"],
        token_endpoint_auth_method=auth_method,
    ) as client:
        token = client.fetch_token(f"{live.base_url}/oauth/token", grant_type="client_credentials")
        assert token["token_type"].lower() == "bearer"
        assert token["expires_in"] == 86_400  # the operator default, as Tellus issues them
        response = client.get(f"{live.base_url}/v1/me", timeout=10)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["client_id"] == creds["client_id"]
    assert body["kind"] == "operator"
    assert body["scopes"] == ["read", "write"]


def test_requests_oauthlib_backend_application_client(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on 127.0.0.1
    creds = live.create_client(kind="partner", scopes="read")
    session = OAuth2Session(client=BackendApplicationClient(client_id=creds["client_id"]))
    with session:
        token = session.fetch_token(
            token_url=f"{live.base_url}/oauth/token",
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
        )
        assert token["scope"] == ["read"]  # oauthlib splits the granted scope
        response = session.get(f"{live.base_url}/v1/me", timeout=10)

    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == creds["client_id"]
    assert response.json()["kind"] == "partner"


def test_tellus_json_post(live: LiveServer) -> None:
    creds = live.create_client()
    response = httpx.post(
        f"{live.base_url}/v1/operator/oauth/token",
        json={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
        timeout=10,
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["code"] == 0
    assert body["data"]["access_token"] == body["access_token"]
    assert body["data"]["expires_in"] == body["expires_in"] == 86_400
    assert me(live.base_url, body["data"]["access_token"]).json()["client_id"] == creds["client_id"]


def test_evenergy_token_with_basic(live: LiveServer) -> None:
    creds = live.create_client(kind="partner")
    response = httpx.post(
        f"{live.base_url}/o/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=10,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    answer = me(live.base_url, body["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_id"] == creds["client_id"]
    assert answer.json()["scopes"] == ["read"]


def test_access_token_verifies_with_an_independent_jose_library(live: LiveServer) -> None:
    creds = live.create_client(scopes="read write", token_ttl="600")
    token = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    url = f"{live.base_url}/.well-known/oauth-authorization-server"
    metadata = httpx.get(url, timeout=10).json()
    assert metadata["issuer"] == live.base_url
    assert metadata["jwks_uri"] == f"{live.base_url}/.well-known/jwks.json"

    key_set = KeySet.import_key_set(jwks(live.base_url))  # type: ignore[arg-type]
    decoded = jwt.decode(token, key_set, algorithms=["ES256"])

    # RFC 9068 §2.1: the header names the media type and a key published in the JWKS.
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["kid"] == jwt_header(token)["kid"]
    assert decoded.header["kid"] in {k["kid"] for k in jwks(live.base_url)["keys"]}
    # RFC 9068 §2.2: required claims, validated by the independent library.
    now = int(time.time())
    jwt.JWTClaimsRegistry(
        now=now,
        leeway=5,
        iss={"essential": True, "value": live.base_url},
        aud={"essential": True},
        sub={"essential": True, "value": creds["client_id"]},  # no resource owner: the client
        client_id={"essential": True, "value": creds["client_id"]},
        jti={"essential": True},
        iat={"essential": True},
        exp={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    assert claims["aud"]
    assert claims["scope"] == "read write"
    assert claims["scp"] == ["read", "write"]
    assert claims["kind"] == "operator"
    assert claims["env"] == "sandbox"
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - now) <= 5
    # jti is unique per token (RFC 9068 §2.2, RFC 7519 §4.1.7).
    again = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    assert jwt.decode(again, key_set, algorithms=["ES256"]).claims["jti"] != claims["jti"]
