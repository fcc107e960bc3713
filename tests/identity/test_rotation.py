"""Secret rotation with overlap; key rotation keeping the old key until its tokens expire."""

from __future__ import annotations

import httpx
import orjson

from tests.conftest import App, Backend, make_settings
from voltgate.identity import jwt


async def _status(app: App, cid: str, secret: str) -> int:
    response = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    return response.status_code


async def test_old_and_new_secret_both_work_during_the_overlap_then_only_the_new(app: App) -> None:
    cid, old = await app.client()
    new = await app.rt.identity.admin.rotate_secret(cid, overlap=3600)
    assert new != old and new.startswith("vgcs_test_")
    assert await _status(app, cid, old) == 200
    assert await _status(app, cid, new) == 200
    app.clock.advance(3601)
    assert await _status(app, cid, old) == 401
    assert await _status(app, cid, new) == 200


async def test_rotation_through_the_admin_api(app: App) -> None:
    admin_id, admin_secret = await app.client(scopes="voltgate:admin")
    admin_token = (await app.token(admin_id, admin_secret))["access_token"]
    cid, old = await app.client()
    response = await app.http.post(
        f"/admin/clients/{cid}/rotate-secret",
        json={"overlap": "1h"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 200, response.text
    new = response.json()["client_secret"]
    assert await _status(app, cid, old) == 200
    assert await _status(app, cid, new) == 200
    app.clock.advance(3601)
    assert await _status(app, cid, old) == 401
    shown = await app.http.get(
        f"/admin/clients/{cid}", headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert new not in shown.text and old not in shown.text


def _kid(token: str) -> str:
    return str(orjson.loads(jwt.b64decode(token.split(".")[0]))["kid"])


async def test_tokens_signed_by_the_previous_key_verify_until_they_expire(app: App) -> None:
    cid, secret = await app.client(token_ttl=600)
    before = (await app.token(cid, secret))["access_token"]
    await app.rt.rotate_keys()
    after = (await app.token(cid, secret))["access_token"]
    assert _kid(before) != _kid(after)
    jwks = (await app.http.get("/.well-known/jwks.json")).json()
    assert {_kid(before), _kid(after)} <= {k["kid"] for k in jwks["keys"]}
    for token in (before, after):
        me = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
    # Once every token the old key could have signed has expired, it leaves the JWKS.
    app.clock.advance(app.rt.settings.max_access_token_ttl + app.rt.settings.clock_skew + 1)
    await app.rt.identity.keys.load()
    jwks = (await app.http.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [_kid(after)]


async def test_signing_keys_are_encrypted_at_rest(app: App) -> None:
    from voltgate.db.schema import signing_keys

    async with app.rt.db.connect() as conn:
        rows = (await conn.execute(signing_keys.select())).all()
    assert rows
    for row in rows:
        assert "PRIVATE KEY" not in row.private_sealed
        assert row.private_sealed.startswith("v1.")


async def test_secrets_are_stored_only_hashed_and_sealed(app: App) -> None:
    from voltgate.db.schema import client_secrets

    cid, secret = await app.client()
    async with app.rt.db.connect() as conn:
        rows = (await conn.execute(client_secrets.select())).all()
    dump = repr(rows)
    assert secret not in dump
    assert secret[10:30] not in dump
    assert all(len(r.secret_hash) == 64 for r in rows)
    opened = [
        app.rt.crypto.envelope.open(s, f"client-secret:{cid}").decode()
        for s in await app.rt.identity.admin.sealed_secrets(cid)
    ]
    assert opened == [secret]


async def test_metadata_and_jwks(app: App) -> None:
    meta = (await app.http.get("/.well-known/oauth-authorization-server")).json()
    issuer = app.rt.settings.issuer
    assert meta["issuer"] == issuer
    assert meta["token_endpoint"] == f"{issuer}/oauth/token"
    assert "client_credentials" in meta["grant_types_supported"]
    jwks = await app.http.get("/.well-known/jwks.json")
    assert jwks.headers["content-type"].startswith("application/jwk-set+json")
    for key in jwks.json()["keys"]:
        assert set(key) >= {"kty", "crv", "x", "y", "kid", "alg"}
        assert "d" not in key
    assert meta["jwks_uri"] == f"{issuer}/.well-known/jwks.json"


async def test_a_token_signed_by_a_key_rotated_elsewhere_is_accepted(backend: Backend) -> None:
    """Another instance rotated keys and signs with the new one before this one heard of it
    (no shared bus, change polling effectively off): the unknown `kid` triggers one reload."""
    from voltgate.app import create_app
    from voltgate.clock import FrozenClock
    from voltgate.runtime import Runtime

    settings = make_settings(backend, change_poll_interval=3600, redis_url=None)
    clock = FrozenClock()
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        other = Runtime(settings, clock)
        await other.start()
        try:
            await other.rotate_keys()
            created = await other.identity.admin.create(name="x", kind="operator", scopes="read")
            issued = other.identity.tokens.issue(
                subject=created.client.id,
                client_id=created.client.id,
                scopes=("read",),
                kind="operator",
                ttl=300,
            )
        finally:
            await other.stop()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            headers = {"Authorization": f"Bearer {issued.token}"}
            clock.advance(2)  # past the reload back-off
            me = await http.get("/v1/me", headers=headers)
            assert me.status_code == 200, me.text
