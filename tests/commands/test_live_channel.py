"""The command channel on a running server (granian): a command reaches its long-polling
charger in well under a second, and a charger that hung up does not lose it."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import pytest

from tests.fixtures.fleet import description
from tests.fixtures.live import LiveServer
from tests.live.support import access_token, wait_for

START = {"charge_power": 7, "duration": 600, "target_soc": 80}


def _charger(live: LiveServer) -> tuple[dict[str, str], dict[str, str], str]:
    """Operator headers, device headers and the device id of a fresh one-connector charger."""
    op = live.create_client(kind="operator", scopes="read write")
    operator = {"Authorization": f"Bearer {access_token(live.base_url, **_creds(op))}"}
    enrolled = live.cli_json("enroll", "create", "--operator", op["client_id"], "--uses", "1")
    registered = httpx.post(
        f"{live.base_url}/v1/device/register",
        json=description(connectors=[{"type": "Type2", "max_power_kw": 22}]),
        headers={"Authorization": f"Bearer {enrolled['enrollment_token']}"},
        timeout=10,
    ).json()["data"]
    token = httpx.post(
        f"{live.base_url}/v1/device/token",
        json={**registered, "grant_type": "client_credentials"},
        timeout=10,
    ).json()["data"]["access_token"]
    return operator, {"Authorization": f"Bearer {token}"}, registered["device_id"]


def _creds(client: dict[str, str]) -> dict[str, str]:
    return {"client_id": client["client_id"], "secret": client["client_secret"]}


def _online(live: LiveServer, operator: dict[str, str], device_id: str) -> None:
    shown = wait_for(
        lambda: httpx.get(
            f"{live.base_url}/v1/operator/devices/{device_id}", headers=operator, timeout=10
        ),
        lambda r: r.json()["data"]["online"],
    )
    assert shown.json()["data"]["online"] is True


def _start(live: LiveServer, operator: dict[str, str], device_id: str) -> str:
    response = httpx.post(
        f"{live.base_url}/v1/operator/devices/{device_id}/connectors/1/start",
        json=START,
        headers=operator,
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["command_id"])


def _status(live: LiveServer, operator: dict[str, str], command_id: str) -> str:
    response = httpx.get(
        f"{live.base_url}/v1/operator/commands/{command_id}", headers=operator, timeout=10
    )
    return str(response.json()["data"]["status"])


def test_a_long_polling_charger_gets_the_command_in_under_a_second(live: LiveServer) -> None:
    operator, device, device_id = _charger(live)
    result: dict[str, Any] = {}
    connected = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=live.base_url, timeout=40) as http:
            connected.set()
            response = http.get("/v1/device/commands", params={"wait": 30}, headers=device)
            result["at"] = time.monotonic()
            result["response"] = response

    thread = threading.Thread(target=poll)
    thread.start()
    connected.wait(5)
    _online(live, operator, device_id)  # the poll counted as a heartbeat: it is waiting
    queued_at = time.monotonic()
    command_id = _start(live, operator, device_id)
    thread.join(5)
    assert not thread.is_alive()
    assert result["at"] - queued_at < 1.0
    [delivered] = result["response"].json()["data"]["commands"]
    assert delivered["command_id"] == command_id
    for status in ("accepted", "completed"):
        answer = httpx.post(
            f"{live.base_url}/v1/device/command-status",
            json={"command_id": command_id, "status": status},
            headers=device,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    assert _status(live, operator, command_id) == "completed"


def test_a_charger_that_hung_up_does_not_lose_the_command(live: LiveServer) -> None:
    operator, device, device_id = _charger(live)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{live.base_url}/v1/device/commands",
            params={"wait": 30},
            headers=device,
            timeout=httpx.Timeout(10, read=0.5),
        )
    command_id = _start(live, operator, device_id)  # wakes the abandoned poll, if still there
    # Time enough for an abandoned poll to (wrongly) take it: it stays queued.
    status = wait_for(lambda: _status(live, operator, command_id), lambda s: s != "queued")
    assert status == "queued"
    beat = httpx.post(f"{live.base_url}/v1/device/heartbeat", json={}, headers=device, timeout=10)
    assert [c["command_id"] for c in beat.json()["data"]["commands"]] == [command_id]


def test_stopping_the_server_answers_open_long_polls_at_once(live: LiveServer) -> None:
    operator, device, device_id = _charger(live)
    assert live.process is not None
    answered: dict[str, Any] = {}

    def poll() -> None:
        answered["response"] = httpx.get(
            f"{live.base_url}/v1/device/commands", params={"wait": 60}, headers=device, timeout=90
        )

    thread = threading.Thread(target=poll)
    thread.start()
    _online(live, operator, device_id)  # the poll counted as a heartbeat: it is waiting
    stopping = time.monotonic()
    live.process.send_signal(signal.SIGTERM)
    live.process.wait(timeout=30)
    thread.join(5)
    assert time.monotonic() - stopping < 10  # not the 60 s the poll had left
    assert answered["response"].json()["data"] == {"commands": []}
