"""`voltgate clients create --kind beenergised_app --json` prints the app's pre-shared key once;
a running server takes it as the bearer of initSession at once, and the database holds only
its hash."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.fixtures.live import LiveServer

REGISTER = (
    "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) "
    "{ profile { email } } }"
)


def test_the_printed_psk_registers_a_contact_and_is_stored_only_hashed(live: LiveServer) -> None:
    created = live.cli_json(
        "clients",
        "create",
        "--name",
        "Charging app",
        "--kind",
        "beenergised_app",
        "--scopes",
        "contact",
    )
    psk = str(created["psk"])
    assert psk == created["client_secret"] and psk.startswith("vgpsk_test_")
    assert created["kind"] == "beenergised_app"
    profile = {"name": "Ada", "email": "ada@example.com", "password": "a long password"}
    answer = httpx.post(
        f"{live.base_url}/graphql",
        json={"query": REGISTER, "variables": {"p": profile}},
        headers={"Authorization": f"Bearer {psk}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["registerContact"]["profile"]["email"] == "ada@example.com"
    listed = live.cli_json("clients", "list")
    assert psk not in str(listed)
    data = Path(live.env["VOLTGATE_DATA_DIR"])
    files = list(data.glob("voltgate.db*"))  # the embedded default (none on PostgreSQL)
    assert all(psk.encode() not in f.read_bytes() for f in files)
