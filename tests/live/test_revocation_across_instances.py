"""A revoked access token stops working on the instance that revoked it and on every other one."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import httpx
import pytest

from tests.conftest import Backend
from tests.fixtures.live import LiveServer, live_server
from tests.live.support import access_token, me, wait_for


def _revoke(base_url: str, path: str, creds: dict[str, str], token: str) -> None:
    response = httpx.post(
        f"{base_url}{path}",
        data={"token": token, "token_type_hint": "access_token"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text


def _assert_revoked(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == 2001
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge


@pytest.mark.parametrize("path", ["/oauth/revoke", "/o/revoke_token/"])
def test_revoked_token_is_refused_at_once_by_the_same_instance(live: LiveServer, path: str) -> None:
    creds = live.create_client()
    token = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    other = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    assert me(live.base_url, token).status_code == 200  # verified and cached

    _revoke(live.base_url, path, creds, token)

    _assert_revoked(me(live.base_url, token))
    assert me(live.base_url, other).status_code == 200  # tokens of one client are independent


def test_revocation_reaches_a_second_instance(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "sqlite":
        pytest.skip("one process per SQLite data dir")
    # What two instances of one deployment share: the database, Redis (and its namespace), the
    # master key that opens the signing keys, and the public issuer URL behind the balancer.
    shared = {
        "database_url": backend.settings["database_url"],
        "redis_url": backend.settings["redis_url"],
        "redis_namespace": backend.settings["redis_namespace"],
        "master_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "issuer": "http://voltgate.test",
    }
    with (
        live_server(tmp_path / "a", tmp_path / "a.log", **shared) as a,
        live_server(tmp_path / "b", tmp_path / "b.log", **shared) as b,
    ):
        creds = a.create_client()
        token = access_token(a.base_url, creds["client_id"], creds["client_secret"])
        assert me(b.base_url, token).status_code == 200  # now verified and cached on B

        _revoke(a.base_url, "/oauth/revoke", creds, token)

        _assert_revoked(me(a.base_url, token))
        answer = wait_for(
            lambda: me(b.base_url, token), lambda r: r.status_code != 200, within=3.0, step=0.02
        )
        _assert_revoked(answer)
