"""The blocking client against a live server: the same vault and profile machinery, shared by
threads (one token for all of them), and the vault's file holding no token or secret."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fixtures.live import LiveServer
from voltgate.sdk.vault import ApiClient, AppCredentials, TokenVault
from voltgate.sdk.vault.records import open_record


def test_the_blocking_client_shares_one_token_among_threads(
    live: LiveServer, tmp_path: Path
) -> None:
    created = live.create_client("operator", "read write")
    vault = TokenVault(path=tmp_path / "vault.db")
    credentials = AppCredentials(created["client_id"], created["client_secret"])
    with ApiClient("tellus", vault, credentials, base_url=live.base_url) as client:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda _: client.request("GET", "/v1/operator/devices"), range(32)
            ))  # fmt: skip
        assert {a.status_code for a in answers} == {200}
        assert {a.json()["code"] for a in answers} == {0}  # Tellus's envelope
        assert vault.refreshes == 1  # one client-credentials token for 32 calls on 8 threads

        record = client._run(vault.store.load(client.key))
        assert record is not None
        token = open_record(record, vault.keys).access_token
    held = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert token.encode() not in held
    assert created["client_secret"].encode() not in held
