"""`voltgate enroll create --json`: the token it prints registers chargers on a running server."""

from __future__ import annotations

import httpx

from tests.fixtures.fleet import description
from tests.fixtures.live import LiveServer


def test_the_printed_token_registers_as_many_chargers_as_asked(live: LiveServer) -> None:
    operator = live.create_client(kind="operator", scopes="read write")
    created = live.cli_json(
        "enroll", "create", "--operator", operator["client_id"], "--uses", "1", "--expires", "7d"
    )
    token = str(created["enrollment_token"])
    assert token.startswith("vget_test_")
    assert created["uses_left"] == 1 and created["operator_id"] == operator["client_id"]
    assert int(str(created["expires_at"])) - int(str(created["created_at"])) == 7 * 86_400

    headers = {"Authorization": f"Bearer {token}"}
    url = f"{live.base_url}/v1/device/register"
    first = httpx.post(url, json=description(), headers=headers, timeout=10)
    assert first.status_code == 201, first.text
    second = httpx.post(url, json=description(), headers=headers, timeout=10)
    assert second.status_code == 401 and second.json()["code"] == 2001


def test_bad_arguments_fail_with_a_message_and_no_traceback(live: LiveServer) -> None:
    operator = live.create_client(kind="partner", scopes="read")
    for args, message in [
        (["--operator", "vgc_test_nobody", "--uses", "1"], "no active operator"),
        (["--operator", operator["client_id"], "--uses", "1"], "not an operator"),
        (["--operator", operator["client_id"], "--uses", "0"], "uses"),
        (["--operator", operator["client_id"], "--uses", "1", "--expires", "soon"], "duration"),
    ]:
        result = live.cli("enroll", "create", *args, "--json", check=False)
        assert result.returncode != 0
        assert message in result.stderr and "Traceback" not in result.stderr
