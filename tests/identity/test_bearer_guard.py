"""The one bearer guard (RFC 6750): each failure is a 401/403 with a challenge and a Tellus code."""

from __future__ import annotations

import orjson
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import App
from voltgate.identity import jwt


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401_with_a_bare_challenge(app: App) -> None:
    response = await app.http.get("/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == 2001
    assert response.headers["www-authenticate"] == 'Bearer realm="voltgate"'


async def test_expired_token_is_401_code_2002(app: App) -> None:
    cid, secret = await app.client(token_ttl=60)
    token = (await app.token(cid, secret))["access_token"]
    assert (await app.http.get("/v1/me", headers=bearer(token))).status_code == 200
    app.clock.advance(60 + app.rt.settings.clock_skew + 1)
    response = await app.http.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == 2002
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_tampered_signature_is_401_code_2001(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    head, payload, sig = token.split(".")
    claims = orjson.loads(jwt.b64decode(payload))
    claims["scope"] = "read write voltgate:admin"
    forged = f"{head}.{jwt.b64encode(orjson.dumps(claims)).decode()}.{sig}"
    response = await app.http.get("/v1/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == 2001


async def test_token_signed_by_a_stranger_is_refused(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    header = orjson.loads(jwt.b64decode(token.split(".")[0]))
    claims = orjson.loads(jwt.b64decode(token.split(".")[1]))
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.sign(jwt.encode_header(header["kid"], "at+jwt"), claims, stranger)
    response = await app.http.get("/v1/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json()["code"] == 2001


async def test_alg_none_and_garbage_are_refused(app: App) -> None:
    none_header = jwt.b64encode(b'{"alg":"none","typ":"at+jwt"}').decode()
    body = jwt.b64encode(b'{"sub":"x"}').decode()
    for token in (f"{none_header}.{body}.", "abc", "a.b.c", "x" * 9000):
        response = await app.http.get("/v1/me", headers=bearer(token))
        assert response.status_code == 401, token[:20]
        assert response.json()["code"] == 2001


async def test_missing_scope_is_403_code_2003_naming_the_scope(app: App) -> None:
    cid, secret = await app.client(scopes="read")
    token = (await app.token(cid, secret))["access_token"]
    response = await app.http.get("/admin/clients", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == 2003
    assert "voltgate:admin" in response.json()["message"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_revoked_token_is_401_on_this_instance_at_once(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    assert (await app.http.get("/v1/me", headers=bearer(token))).status_code == 200
    revoke = await app.http.post("/oauth/revoke", data={"token": token}, auth=(cid, secret))
    assert revoke.status_code == 200
    response = await app.http.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == 2001
    assert "revoked" in response.json()["message"]


async def test_a_client_cannot_revoke_another_clients_token(app: App) -> None:
    owner, owner_secret = await app.client()
    other, other_secret = await app.client()
    token = (await app.token(owner, owner_secret))["access_token"]
    response = await app.http.post(
        "/oauth/revoke", data={"token": token}, auth=(other, other_secret)
    )
    assert response.status_code == 200  # RFC 7009 §2.2: no oracle for other clients' tokens
    assert (await app.http.get("/v1/me", headers=bearer(token))).status_code == 200


async def test_revocation_survives_a_restart(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    await app.http.post("/oauth/revoke", data={"token": token}, auth=(cid, secret))
    claims = app.rt.identity.tokens.peek(token)
    assert claims is not None
    from voltgate.runtime import Runtime

    other = Runtime(app.rt.settings, app.clock)  # a new process: its coordinator starts empty
    await other.start()
    try:
        assert other.identity.revocations.is_revoked(claims)
    finally:
        await other.stop()


async def test_disabling_a_client_kills_its_tokens(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    await app.rt.identity.admin.disable(cid)
    response = await app.http.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401


async def test_token_of_another_environment_is_refused_by_name(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    claims = orjson.loads(jwt.b64decode(token.split(".")[1]))
    claims["env"] = "production"
    key = app.rt.identity.keys.ring.active if app.rt.identity.keys.ring else None
    assert key is not None
    foreign = jwt.sign(key.header("at+jwt"), claims, key.private)
    response = await app.http.get("/v1/me", headers=bearer(foreign))
    assert response.status_code == 401
    assert "production" in response.json()["message"]


async def test_wrong_scheme_is_refused(app: App) -> None:
    response = await app.http.get("/v1/me", headers={"Authorization": "Token abc"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
