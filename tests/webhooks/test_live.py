"""End to end through a live `voltgate serve`: an operator's rule on its chargers, a charger's
telemetry reporting a fault, the alert listed over the API and delivered to a real receiver,
signed, after the receiver failed three times."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import Backend
from tests.fixtures.alerting import FAST, signed_with
from tests.fixtures.live import live_server
from tests.fixtures.receiver import failing_first, receiver


def _until(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_faulted_connector_reaches_the_operators_webhook(
    backend: Backend, tmp_path: Path
) -> None:
    settings = {k: v for k, v in backend.settings.items() if k != "data_dir"}
    settings |= {k: str(v) for k, v in FAST.items()}
    with (
        live_server(tmp_path / "data", tmp_path / "server.log", **settings) as live,
        receiver(failing_first(3)) as hooks,
        httpx.Client(base_url=live.base_url, timeout=10) as http,
    ):
        op = live.create_client(kind="operator", scopes="read write")
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(op["client_id"], op["client_secret"]),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        enrolled = http.post("/v1/operator/enrollments", json={}, headers=headers)
        assert enrolled.status_code == 201, enrolled.text
        registered = http.post(
            "/v1/device/register",
            json={
                "sn": "SN-LIVE-1",
                "model": "Tellus 22",
                "manufacturer": "Tellus",
                "firmware_version": "1.4.2",
                "connectors": [{"type": "Type2", "max_power_kw": 22}],
            },
            headers={"Authorization": f"Bearer {enrolled.json()['data']['enrollment_token']}"},
        )
        assert registered.status_code == 201, registered.text
        device = registered.json()["data"]
        device_token = http.post(
            "/v1/device/token",
            json={
                "device_id": device["device_id"],
                "device_secret": device["device_secret"],
                "grant_type": "client_credentials",
            },
        ).json()["data"]["access_token"]

        rule = http.post("/v1/alerts/rules", json={"kind": "connector_faulted"}, headers=headers)
        assert rule.status_code == 201, rule.text
        hook = http.post("/v1/webhooks", json={"url": hooks.url}, headers=headers)
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]

        for state in ("available", "faulted"):
            sent = http.post(
                "/v1/device/telemetry",
                json={
                    "connectors": [{"connector": 1, "state": state, "power_kw": 0, "energy_kwh": 0}]
                },
                headers={"Authorization": f"Bearer {device_token}"},
            )
            assert sent.status_code == 202, sent.text

        def listed() -> list[dict[str, object]]:
            items: list[dict[str, object]] = http.get("/v1/alerts", headers=headers).json()["items"]
            return items

        _until(lambda: len(listed()) == 1, "the alert to be listed")
        alert = listed()[0]
        assert alert["kind"] == "connector_faulted"
        assert alert["subject"] == f"{device['device_id']}:1"
        _until(lambda: len(hooks.snapshot()[1]) == 1, "the alert to be delivered")
        requests, processed = hooks.snapshot()
        assert len(requests) == 4 and processed[0].alert["id"] == alert["id"]
        assert signed_with(processed[0].headers["voltgate-signature"], secret, processed[0].body)

        def delivered() -> list[dict[str, object]]:
            path = f"/v1/webhooks/{hook.json()['id']}/deliveries?state=delivered"
            items: list[dict[str, object]] = http.get(path, headers=headers).json()["items"]
            return items

        _until(lambda: len(delivered()) == 1, "the delivery to be marked delivered")
        assert [(d["alert_id"], d["attempts"]) for d in delivered()] == [(alert["id"], 4)]
        logs = live.logs()
        assert secret not in logs and "v1=" not in logs
        assert "Traceback" not in logs
