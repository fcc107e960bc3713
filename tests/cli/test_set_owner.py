"""`voltgate devices set-owner`: the owner's apps see the charger's sessions on a running server."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.fixtures.fleet import description
from tests.fixtures.live import LiveServer
from tests.web.support import PASSWORD, REDIRECT, Flow

PROMISE = 1.0  # seconds: a CLI write is seen by a running server within this (docs/operating.md)

SCOPE = "charging_session:read"


async def test_the_owner_set_from_the_cli_sees_the_chargers_sessions(live: LiveServer) -> None:
    user = live.cli_json("users", "create", "--email", "home@example.com", "--password", PASSWORD)
    op = live.create_client(kind="operator", scopes="read write")
    enrolled = live.cli_json("enroll", "create", "--operator", op["client_id"], "--uses", "1")
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        registered = (
            await http.post(
                "/v1/device/register",
                json=description(connectors=[{"type": "Type2", "max_power_kw": 11}]),
                headers={"Authorization": f"Bearer {enrolled['enrollment_token']}"},
            )
        ).json()["data"]
        device_token = (
            await http.post(
                "/v1/device/token",
                json={
                    "device_id": registered["device_id"],
                    "device_secret": registered["device_secret"],
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        record = {"transaction_id": "t-1", "connector": 1, "started_at": 1.7e9, "energy_kwh": 6}
        reported = await http.post(
            "/v1/device/charging-records",
            json=record,
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert reported.status_code == 201, reported.text

        shown = live.cli_json(
            "devices", "set-owner", registered["device_id"], "--user", "HOME@example.com", "--json"
        )
        assert shown == {"device_id": registered["device_id"], "owner_user_id": user["user_id"]}

        app = live.create_client(kind="third_party", scopes=SCOPE, redirect_uri=REDIRECT)
        flow = Flow(http, app["client_id"], scope=SCOPE)
        code = await flow.code("home@example.com")
        tokens = await http.post(
            "/o/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": flow.verifier,
            },
            auth=(app["client_id"], app["client_secret"]),
        )
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        sessions = (await http.get("/v2/charging_sessions", headers=headers)).json()["data"]
        assert [(s["status"], s["energy_kwh"]) for s in sessions] == [("in_progress", 6)]

        cleared = live.cli_json("devices", "set-owner", registered["device_id"], "--clear")
        assert cleared["owner_user_id"] is None
        # A CLI's write reaches a running server within a second (it polls the SQLite file's
        # change counter); until then the server may still answer from what it holds.
        started = time.monotonic()
        while (await http.get("/v2/charging_sessions", headers=headers)).json()["data"]:
            assert time.monotonic() - started < PROMISE, "the cleared owner still sees sessions"
            await asyncio.sleep(0.02)

    for args, message in [
        (["vgc_test_nothing", "--user", user["user_id"]], "no device"),
        ([registered["device_id"], "--user", "nobody@example.com"], "no user"),
        ([registered["device_id"]], "exactly one"),
        ([registered["device_id"], "--user", user["user_id"], "--clear"], "exactly one"),
    ]:
        result = live.cli("devices", "set-owner", *args, check=False)
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
