"""Sandbox and production: credentials carry their environment and are refused by the other."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from voltgate.app import create_app
from voltgate.config import Environment, Settings
from voltgate.runtime import Runtime


def test_production_requires_a_master_key(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="VOLTGATE_MASTER_KEY"):
        Runtime(Settings(data_dir=tmp_path, environment=Environment.PRODUCTION))


async def test_production_issues_live_credentials_and_refuses_sandbox_ones(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, master_key=key)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        created = await application.state.runtime.identity.admin.create(
            name="live op", kind="operator", scopes="read"
        )
        assert created.client.id.startswith("vgc_live_")
        assert created.secret is not None and created.secret.startswith("vgcs_live_")
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            ok = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(created.client.id, created.secret),
            )
            assert ok.status_code == 200
            me = await http.get(
                "/v1/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}
            )
            assert me.json()["environment"] == "production"
            sandbox = await http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=("vgc_test_01abc", "vgcs_test_" + "a" * 43),
            )
            assert sandbox.status_code == 401
            assert "sandbox" in sandbox.json()["error_description"]
