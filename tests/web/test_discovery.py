"""OpenID discovery (Discovery 1.0 §4) at voltgate's path and at Tesla's third-party path."""

from __future__ import annotations

from tests.conftest import App


async def test_openid_configuration_lists_what_the_server_does(app: App) -> None:
    issuer = app.rt.settings.issuer
    response = await app.http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert meta["token_endpoint"] == f"{issuer}/oauth/token"
    assert meta["userinfo_endpoint"] == f"{issuer}/oauth/userinfo"
    assert meta["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        meta["grant_types_supported"]
    )
    assert {"openid", "offline_access", "vehicle_device_data"} <= set(meta["scopes_supported"])
    # Every key in the JWKS can verify ES256, the advertised ID-token algorithm.
    jwks = (await app.http.get(meta["jwks_uri"].removeprefix(issuer))).json()
    assert all(k["kty"] == "EC" and k["crv"] == "P-256" for k in jwks["keys"])


async def test_tesla_discovery_names_the_tesla_paths_under_the_same_issuer(app: App) -> None:
    issuer = app.rt.settings.issuer
    meta = (await app.http.get("/oauth2/v3/thirdparty/.well-known/openid-configuration")).json()
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/oauth2/v3/authorize"
    assert meta["token_endpoint"] == f"{issuer}/oauth2/v3/token"


async def test_userinfo_needs_a_users_token_with_openid(app: App) -> None:
    cid, secret = await app.client()
    machine = await app.token(cid, secret)
    refused = await app.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {machine['access_token']}"}
    )
    assert refused.status_code == 403
    missing = await app.http.get("/oauth/userinfo")
    assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
