"""Authorization codes with PKCE and refresh-token rotation at the token endpoint (issue 3).

Codes are minted through the same service the authorization endpoint will call once a user
has consented (that endpoint and its pages are the next slice of issue 3).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import App
from voltgate.errors import InvalidRequest
from voltgate.identity import pkce

REDIRECT = "https://app.example/callback"


@dataclass
class Party:
    app: App
    client_id: str
    secret: str
    user_id: str

    async def code(self, scopes: str = "vehicle:read vehicle:cmds", **kw: Any) -> str:
        client = await self.app.rt.identity.clients.get(self.client_id)
        assert client is not None
        return await self.app.rt.identity.delegation.issue_code(
            client=client,
            user_id=self.user_id,
            redirect_uri=kw.pop("redirect_uri", REDIRECT),
            scopes=tuple(scopes.split()),
            auth_time=self.app.clock.now(),
            **kw,
        )

    async def post(self, auth: bool = True, **data: str) -> httpx.Response:
        return await self.app.http.post(
            "/oauth/token", data=data, auth=(self.client_id, self.secret) if auth else None
        )

    async def redeem(self, code: str, **extra: str) -> httpx.Response:
        return await self.post(
            grant_type="authorization_code", code=code, redirect_uri=REDIRECT, **extra
        )

    async def refresh(self, token: str, **extra: str) -> httpx.Response:
        return await self.post(grant_type="refresh_token", refresh_token=token, **extra)


async def _party(
    app: App, kind: str = "third_party", scopes: str = "vehicle:read vehicle:cmds"
) -> Party:
    cid, secret = await app.client(kind=kind, scopes=scopes, redirect_uris=[REDIRECT])
    user = await app.rt.identity.users.create(
        f"{secrets.token_hex(4)}@example.com", "correct horse battery"
    )
    return Party(app, cid, secret, user.id)


async def _me(app: App, token: str) -> int:
    response = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_code_exchange_gives_a_user_token_and_a_refresh_token(app: App) -> None:
    party = await _party(app)
    response = await party.redeem(await party.code())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"].startswith("vgrt_test_")
    me = await app.http.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["subject"] == party.user_id and me.json()["kind"] == "third_party"


async def test_code_replay_is_refused_and_revokes_what_the_first_use_issued(app: App) -> None:
    party = await _party(app)
    code = await party.code()
    first = (await party.redeem(code)).json()
    replay = await party.redeem(code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await _me(app, first["access_token"]) == 401
    assert (await party.refresh(first["refresh_token"])).status_code == 400


async def test_code_redeemed_by_another_client_is_refused_and_stays_usable(app: App) -> None:
    owner = await _party(app)
    thief = await _party(app)
    code = await owner.code()
    stolen = await thief.redeem(code)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert (await owner.redeem(code)).status_code == 200


async def test_code_expires_after_a_minute(app: App) -> None:
    party = await _party(app)
    code = await party.code()
    app.clock.advance(61)
    assert (await party.redeem(code)).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "presented",
    [
        "https://app.example/callback/",
        "https://app.example/callbackx",
        "https://app.example/Callback",
        "https://app.example:8443/callback",
        "https://app.example/callback?x=1",
        "https://app.example/callback#frag",
        "http://app.example/callback",
        "https://app.example.evil/callback",
    ],
)
async def test_redirect_uri_must_match_exactly(app: App, presented: str) -> None:
    party = await _party(app)
    code = await party.code()
    response = await party.post(grant_type="authorization_code", code=code, redirect_uri=presented)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_pkce_s256_round_trip(app: App) -> None:
    party = await _party(app)
    verifier = secrets.token_urlsafe(48)
    code = await party.code(code_challenge=pkce.s256(verifier))
    assert (await party.redeem(code, code_verifier=verifier)).status_code == 200


async def test_pkce_verifier_mismatch_is_invalid_grant(app: App) -> None:
    party = await _party(app)
    code = await party.code(code_challenge=pkce.s256(secrets.token_urlsafe(48)))
    wrong = await party.redeem(code, code_verifier="x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


async def test_pkce_challenge_without_verifier_is_invalid_grant(app: App) -> None:
    party = await _party(app)
    missing = await party.redeem(await party.code(code_challenge=pkce.s256("v" * 43)))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"


async def test_pkce_verifier_without_challenge_is_invalid_grant(app: App) -> None:
    party = await _party(app)
    unasked = await party.redeem(await party.code(), code_verifier="v" * 43)
    assert unasked.status_code == 400 and unasked.json()["error"] == "invalid_grant"


def test_plain_pkce_and_malformed_challenges_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="S256"):
        pkce.check_challenge("a" * 43, "plain")
    with pytest.raises(InvalidRequest, match="S256"):
        pkce.check_challenge("a" * 43, None)  # the RFC's default method is plain
    with pytest.raises(InvalidRequest):
        pkce.check_challenge("short", "S256")
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(None, "S256")
    assert pkce.check_challenge(pkce.s256("v" * 43), "S256") is not None


async def test_public_client_needs_pkce_and_no_secret(app: App) -> None:
    party = await _party(app, kind="open_source")
    assert party.secret == ""
    no_pkce = await party.post(
        auth=False,
        grant_type="authorization_code",
        code=await party.code(),
        redirect_uri=REDIRECT,
        client_id=party.client_id,
    )
    assert no_pkce.json()["error"] == "invalid_grant"
    verifier = secrets.token_urlsafe(48)
    ok = await party.post(
        auth=False,
        grant_type="authorization_code",
        code=await party.code(code_challenge=pkce.s256(verifier)),
        redirect_uri=REDIRECT,
        client_id=party.client_id,
        code_verifier=verifier,
    )
    assert ok.status_code == 200, ok.text


async def test_refresh_rotates_and_a_repeat_within_the_grace_window_is_idempotent(
    app: App,
) -> None:
    party = await _party(app)
    first = (await party.redeem(await party.code())).json()
    rotated = await party.refresh(first["refresh_token"])
    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refresh_token"] != first["refresh_token"]
    app.clock.advance(5)
    again = (await party.refresh(first["refresh_token"])).json()
    assert again == pair  # the very same successor pair
    assert (await party.refresh(pair["refresh_token"])).status_code == 200


async def test_reuse_after_the_window_revokes_the_whole_family(app: App) -> None:
    party = await _party(app)
    first = (await party.redeem(await party.code())).json()
    pair = (await party.refresh(first["refresh_token"])).json()
    app.clock.advance(app.rt.settings.refresh_grace_seconds + 1)
    reuse = await party.refresh(first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert (await party.refresh(pair["refresh_token"])).status_code == 400
    assert await _me(app, pair["access_token"]) == 401
    assert await _me(app, first["access_token"]) == 401


async def test_fifty_concurrent_refreshes_share_one_successor(app: App) -> None:
    party = await _party(app)
    first = (await party.redeem(await party.code())).json()
    responses = await asyncio.gather(*(party.refresh(first["refresh_token"]) for _ in range(50)))
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    pairs = {(r.json()["access_token"], r.json()["refresh_token"]) for r in responses}
    assert len(pairs) == 1
    ((access, refresh),) = pairs
    assert await _me(app, access) == 200
    assert (await party.refresh(refresh)).status_code == 200


async def test_refresh_may_narrow_but_never_widen_scope(app: App) -> None:
    party = await _party(app)
    first = (await party.redeem(await party.code("vehicle:read vehicle:cmds"))).json()
    wider = await party.refresh(first["refresh_token"], scope="vehicle:read energy:cmds")
    assert wider.json()["error"] == "invalid_scope"
    narrow = (await party.refresh(first["refresh_token"], scope="vehicle:read")).json()
    assert narrow["scope"] == "vehicle:read"
    full = (await party.refresh(narrow["refresh_token"])).json()
    assert full["scope"] == "vehicle:read vehicle:cmds"  # §6: the refresh token keeps its scope


async def test_refresh_token_of_one_client_is_useless_to_another(app: App) -> None:
    owner = await _party(app)
    other = await _party(app)
    first = (await owner.redeem(await owner.code())).json()
    stolen = await other.refresh(first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert (await owner.refresh(first["refresh_token"])).status_code == 200


async def test_openid_scope_needs_offline_access_for_a_refresh_token(app: App) -> None:
    party = await _party(app, scopes="openid offline_access vehicle_device_data")
    plain = (await party.redeem(await party.code("openid vehicle_device_data"))).json()
    assert "refresh_token" not in plain
    offline = (await party.redeem(await party.code("openid offline_access"))).json()
    assert "refresh_token" in offline


async def test_refresh_survives_in_the_database_hashed_and_sealed(app: App) -> None:
    from voltgate.db.schema import refresh_tokens

    party = await _party(app)
    first = (await party.redeem(await party.code())).json()
    pair = (await party.refresh(first["refresh_token"])).json()
    async with app.rt.db.connect() as conn:
        dump = repr((await conn.execute(refresh_tokens.select())).all())
    for secret in (first["refresh_token"], pair["refresh_token"], pair["access_token"]):
        assert secret not in dump
