"""The token endpoint on every dialect path: grants, client authentication, scopes, RFC errors."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import App


async def test_basic_form_and_json_authentication_all_issue_tokens(app: App) -> None:
    cid, secret = await app.client()
    basic = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    post = await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    as_json = await app.http.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    for response in (basic, post, as_json):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 86_400
        assert body["scope"] == "read write"
        assert "refresh_token" not in body
        assert response.headers["cache-control"] == "no-store"


async def test_tokens_of_one_client_are_independent(app: App) -> None:
    cid, secret = await app.client()
    first = (await app.token(cid, secret))["access_token"]
    second = (await app.token(cid, secret))["access_token"]
    assert first != second
    for token in (first, second):
        me = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200


async def test_scope_narrowing(app: App) -> None:
    cid, secret = await app.client(scopes="read write")
    assert (await app.token(cid, secret, scope="read"))["scope"] == "read"
    wider = await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read admin"},
        auth=(cid, secret),
    )
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


async def test_ttl_follows_the_client(app: App) -> None:
    cid, secret = await app.client(kind="third_party", scopes="vehicle:read", token_ttl=36_000)
    assert (await app.token(cid, secret))["expires_in"] == 36_000


async def test_wrong_secret_is_invalid_client_with_basic_challenge(app: App) -> None:
    cid, _ = await app.client()
    response = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, "vgcs_test_wrong")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_wrong_secret_in_body_is_401_without_basic_challenge(app: App) -> None:
    cid, _ = await app.client()
    response = await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "nope"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" not in response.headers


async def test_unknown_client_and_wrong_secret_look_the_same(app: App) -> None:
    cid, _ = await app.client()
    unknown = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("vgc_test_nobody", "x")
    )
    wrong = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, "x")
    )
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


async def test_disabled_client_gets_invalid_client(app: App) -> None:
    cid, secret = await app.client()
    await app.rt.identity.admin.disable(cid)
    response = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert response.status_code == 401


async def test_client_may_only_use_its_grants(app: App) -> None:
    cid, secret = await app.client(kind="operator", grant_types=["client_credentials"])
    response = await app.http.post(
        "/oauth/token", data={"grant_type": "authorization_code", "code": "x"}, auth=(cid, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] in {"unsupported_grant_type", "unauthorized_client"}


async def test_credentials_of_the_other_environment_are_refused_by_name(app: App) -> None:
    response = await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("vgc_live_01abc", "vgcs_live_" + "a" * 43),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "production" in response.json()["error_description"]


async def test_both_authentication_methods_at_once_is_invalid_request(app: App) -> None:
    cid, secret = await app.client()
    response = await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": secret},
        auth=(cid, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def _basic(cid: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()


@pytest.mark.parametrize(
    ("content_type", "body", "status", "error"),
    [
        (
            "application/x-www-form-urlencoded",
            b"grant_type=password",
            400,
            "unsupported_grant_type",
        ),
        ("application/x-www-form-urlencoded", b"", 400, "invalid_request"),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&grant_type=client_credentials",
            400,
            "invalid_request",
        ),
        ("application/x-www-form-urlencoded", b"grant_type=\xff\xfe", 400, "invalid_request"),
        ("application/x-www-form-urlencoded", b"grant_type=%ff%fe", 400, "invalid_request"),
        ("application/json", b"{not json", 400, "invalid_request"),
        ("application/json", b"[1, 2]", 400, "invalid_request"),
        ("application/json", b'{"grant_type": 7}', 400, "invalid_request"),
        ("text/plain", b"grant_type=client_credentials", 415, "invalid_request"),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&scope=" + b"r" * 10_000,
            400,
            "invalid_request",
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&pad=" + b"x" * 70_000,
            413,
            "invalid_request",
        ),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&scope=%00",
            400,
            "invalid_request",
        ),
    ],
)
async def test_bad_input_gets_an_rfc_error_never_a_500(
    app: App, content_type: str, body: bytes, status: int, error: str
) -> None:
    cid, secret = await app.client()
    for path in ("/oauth/token", "/o/token"):
        response = await app.http.post(
            path,
            content=body,
            headers={"Content-Type": content_type, "Authorization": _basic(cid, secret)},
        )
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"] == error
        assert "Traceback" not in response.text


async def test_tellus_route_uses_the_envelope_and_numeric_codes(app: App) -> None:
    cid, secret = await app.client()
    ok = await app.http.post(
        "/v1/operator/oauth/token",
        json={"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["code"] == 0
    assert body["data"]["expires_in"] == 86_400
    assert body["data"]["access_token"] == body["access_token"]

    bad_secret = await app.http.post(
        "/v1/operator/oauth/token",
        json={"client_id": cid, "client_secret": "wrong", "grant_type": "client_credentials"},
    )
    assert bad_secret.status_code == 401
    assert bad_secret.json()["code"] == 2001
    assert bad_secret.json()["data"] is None

    malformed = await app.http.post(
        "/v1/operator/oauth/token",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == 1001


async def test_rate_limit_per_client_is_429_with_retry_after(backend: object) -> None:
    import httpx

    from tests.conftest import Backend, make_settings
    from voltgate.app import create_app
    from voltgate.clock import FrozenClock

    assert isinstance(backend, Backend)
    clock = FrozenClock()
    application = create_app(make_settings(backend, token_rate_per_client=3), clock=clock)
    async with application.router.lifespan_context(application):
        rt = application.state.runtime
        created = await rt.identity.admin.create(name="rl", kind="operator", scopes="read")
        cid, secret = created.client.id, created.secret
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            body = {"client_id": cid, "client_secret": secret, "grant_type": "client_credentials"}
            codes = [
                (await http.post("/v1/operator/oauth/token", json=body)).status_code
                for _ in range(3)
            ]
            assert codes == [200, 200, 200]
            limited = await http.post("/v1/operator/oauth/token", json=body)
            assert limited.status_code == 429
            assert limited.json()["code"] == 5001
            assert int(limited.headers["retry-after"]) >= 1
            clock.advance(61)
            again = await http.post("/v1/operator/oauth/token", json=body)
            assert again.status_code == 200


async def test_ev_energy_revocation_needs_its_trailing_slash(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    without = await app.http.post("/o/revoke_token", data={"token": token}, auth=(cid, secret))
    assert without.status_code == 405
    me = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    with_slash = await app.http.post("/o/revoke_token/", data={"token": token}, auth=(cid, secret))
    assert with_slash.status_code == 200
    me = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
