"""`voltgate clients|devices set-signing`: a running server enforces the new mode."""

from __future__ import annotations

import httpx
import orjson

from tests.fixtures.fleet import description
from tests.fixtures.live import LiveServer
from tests.live.support import access_token, wait_for
from voltgate.sdk.signer import Signer

START = orjson.dumps({"charge_power": 7, "duration": 600, "target_soc": 80})


def test_required_signing_set_from_the_cli_is_enforced(live: LiveServer) -> None:
    op = live.create_client(kind="operator", scopes="read write")
    token = access_token(live.base_url, op["client_id"], op["client_secret"])
    enrolled = live.cli_json("enroll", "create", "--operator", op["client_id"], "--uses", "1")
    registered = httpx.post(
        f"{live.base_url}/v1/device/register",
        json=description(connectors=[{"type": "Type2", "max_power_kw": 22}]),
        headers={"Authorization": f"Bearer {enrolled['enrollment_token']}"},
        timeout=10,
    ).json()["data"]
    path = f"/v1/operator/devices/{registered['device_id']}/connectors/1/start"
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    def start(extra: dict[str, str]) -> httpx.Response:
        return httpx.post(live.base_url + path, content=START, headers=headers | extra, timeout=10)

    assert start({}).status_code == 202
    shown = live.cli_json("clients", "set-signing", op["client_id"], "required")
    assert shown["signing"] == "required"
    refused = wait_for(lambda: start({}), lambda r: r.status_code != 202)
    assert refused.status_code == 401 and refused.json()["code"] == 2001
    assert "requires signed requests" in refused.json()["message"]
    signed = start(Signer(op["client_secret"]).headers("POST", path, START))
    assert signed.status_code == 202, signed.text

    device = live.cli_json("devices", "set-signing", registered["device_id"], "optional")
    assert device == {"device_id": registered["device_id"], "signing": "optional"}
    wrong = live.cli("devices", "set-signing", op["client_id"], "required", check=False)
    assert wrong.returncode != 0 and "no device" in wrong.stderr
    bad = live.cli("clients", "set-signing", op["client_id"], "sometimes", check=False)
    assert bad.returncode != 0 and "off, optional or required" in bad.stderr
    assert "Traceback" not in wrong.stderr + bad.stderr
