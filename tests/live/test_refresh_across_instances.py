"""Refreshes of one token racing across two instances all get one successor pair; presenting the
consumed token after the grace window revokes the whole family on every instance."""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, make_settings
from tests.fixtures.live import LiveServer, live_server
from tests.live.support import me, wait_for
from voltgate.runtime import Runtime

pytestmark = pytest.mark.services

REDIRECT = "https://app.example/callback"
SCOPES = ("vehicle:read", "vehicle:cmds")
PER_INSTANCE = 25
GRACE = 2.0  # every racing refresh must land inside it; the burst takes ~0.3 s on 2 vCPUs


def _refresh(server: LiveServer, auth: tuple[str, str], token: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=auth,
        timeout=10,
    )


def _pair(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body["access_token"], body["refresh_token"]


def _assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


def _refused_now(response: httpx.Response) -> bool:
    return response.status_code != 200


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def _burst(
    servers: tuple[LiveServer, LiveServer], auth: tuple[str, str], token: str
) -> list[httpx.Response]:
    """PER_INSTANCE refreshes of `token` at each server, on warm connections, sent at once."""
    limits = httpx.Limits(max_connections=PER_INSTANCE, max_keepalive_connections=PER_INSTANCE)
    clients = [
        httpx.AsyncClient(base_url=s.base_url, auth=auth, limits=limits, timeout=30)
        for s in servers
    ]
    try:
        # Open every connection first, so TCP set-up does not stagger the burst.
        await asyncio.gather(*(c.get("/healthz") for c in clients for _ in range(PER_INSTANCE)))
        body = {"grant_type": "refresh_token", "refresh_token": token}
        return await asyncio.gather(
            *(c.post("/oauth/token", data=body) for _ in range(PER_INSTANCE) for c in clients)
        )
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_racing_refreshes_share_one_successor_and_reuse_revokes_everywhere(
    backend: Backend, tmp_path: Path
) -> None:
    # What two instances of one deployment share (see test_revocation_across_instances), with a
    # short grace window so the reuse half of the test does not wait 30 s.
    shared = {
        "database_url": backend.settings["database_url"],
        "redis_url": backend.settings["redis_url"],
        "redis_namespace": backend.settings["redis_namespace"],
        "master_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "issuer": "http://voltgate.test",
        "refresh_grace_seconds": str(GRACE),
    }
    # An in-process runtime on the same database and master key plays the authorization
    # endpoint: it creates the user and the app and mints the code the app redeems.
    rt = Runtime(make_settings(backend, **shared))
    await rt.start(serve=False)
    try:
        created = await rt.identity.admin.create(
            name="racing app",
            kind="third_party",
            scopes=" ".join(SCOPES),
            redirect_uris=[REDIRECT],
        )
        auth = (created.client.id, created.secret or "")
        user = await rt.identity.users.create(
            f"{secrets.token_hex(4)}@example.com", "correct horse battery"
        )
        with (
            live_server(tmp_path / "a", tmp_path / "a.log", **shared) as a,
            live_server(tmp_path / "b", tmp_path / "b.log", **shared) as b,
        ):
            code = await rt.identity.delegation.issue_code(
                client=created.client,
                user_id=user.id,
                redirect_uri=REDIRECT,
                scopes=SCOPES,
                auth_time=rt.clock.now(),
            )
            redeemed = httpx.post(
                f"{a.base_url}/oauth/token",
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
                auth=auth,
                timeout=10,
            )
            _, original = _pair(redeemed)

            burst_started = time.monotonic()
            responses = await _burst((a, b), auth, original)

            assert [r.status_code for r in responses] == [200] * (2 * PER_INSTANCE), [
                r.text for r in responses if r.status_code != 200
            ]
            pairs = {_pair(r) for r in responses}
            assert len(pairs) == 1, f"{len(pairs)} different successor pairs"
            access, successor = pairs.pop()
            assert successor != original
            for server in (a, b):
                assert me(server.base_url, access).status_code == 200  # verified and cached

            next_access, next_refresh = _pair(_refresh(b, auth, successor))
            assert next_refresh != successor
            for server in (a, b):
                assert me(server.base_url, next_access).status_code == 200

            # Within the window the original still answers with the same pair; the first other
            # answer is the server's own verdict that the window has passed: reuse.
            deadline = time.monotonic() + GRACE + 10
            while True:
                again = _refresh(a, auth, original)
                if again.status_code != 200 or time.monotonic() > deadline:
                    break
                assert _pair(again) == (access, successor)
                time.sleep(0.05)
            _assert_invalid_grant(again)
            assert time.monotonic() - burst_started >= GRACE

            for server in (a, b):
                for token in (successor, next_refresh):
                    _assert_invalid_grant(_refresh(server, auth, token))
            for token in (access, next_access):
                _assert_refused(me(a.base_url, token))  # the instance that saw the reuse
                # The other instance hears of it through Redis.
                refused = wait_for(partial(me, b.base_url, token), _refused_now, within=3.0)
                _assert_refused(refused)
    finally:
        await rt.stop()
