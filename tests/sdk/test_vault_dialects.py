"""One SDK, five platforms: the same client code signs in, reads, refreshes ahead of expiry,
refreshes once on the platform's own expiry signal, and turns a dead grant into
`ReauthorizationRequired`, against voltgate's Tesla, ev.energy, Tellus, be.ENERGISED and
canonical dialects; only the profile changes. The vault's file holds no token or secret."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from tests.conftest import App
from tests.sdk.support import PLATFORMS, start_grant
from voltgate.sdk.vault import (
    AppCredentials,
    AsyncApiClient,
    GrantRejected,
    ReauthorizationRequired,
    TokenVault,
)
from voltgate.sdk.vault.records import open_record

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


class Lag:
    """The vault's clock: the server's, minus a lag the test sets (a client whose clock is
    behind, so the server sees the token expired before the client does)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.behind = 0.0

    def __call__(self) -> float:
        return self.app.clock.now() - self.behind


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_the_same_client_code_runs_each_platforms_token_flows(
    app: App, tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    platform = PLATFORMS[name]
    clock = Lag(app)
    vault = TokenVault(path=tmp_path / "vault.db", margin=300, clock=clock)
    assert app.asgi is not None
    transport = httpx.ASGITransport(app=app.asgi, client=("127.0.0.1", 40000))

    def make(credentials: AppCredentials, user: str) -> AsyncApiClient:
        return AsyncApiClient(name, vault, credentials, user, base_url="http://testserver",
                              transport=transport)  # fmt: skip

    client, secret = await start_grant(app, platform, make)
    seen: set[str] = {secret}
    try:
        await platform.check(client)
        first = open_record(await vault.store.load(client.key) or _none(), vault.keys)
        seen |= {first.access_token, first.refresh_token or ""}

        # Ahead of expiry (inside the margin): one refresh, the rotation stored, then used.
        app.clock.advance(first.expires_at - clock() - 200)
        await platform.check(client)
        second = open_record(await vault.store.load(client.key) or _none(), vault.keys)
        seen |= {second.access_token, second.refresh_token or ""}
        assert second.access_token != first.access_token
        if platform.rotating:
            assert second.refresh_token not in (None, first.refresh_token)
        status = await vault.status(client.key)
        assert status.refreshed_at == clock() and status.failures == 0
        assert vault.refreshes == 1 + (name == "tellus")  # Tellus: its first token too

        # The platform's expiry signal, with the client's clock behind: one refresh, one retry.
        clock.behind = 10 * 86_400.0
        app.clock.advance(second.expires_at - app.clock.now() + 60)
        assert clock() < second.expires_at - vault.margin  # not due, as far as the vault knows
        await platform.check(client)
        third = open_record(await vault.store.load(client.key) or _none(), vault.keys)
        seen |= {third.access_token, third.refresh_token or ""}
        assert third.access_token != second.access_token
        assert vault.refreshes == 2 + (name == "tellus")

        if platform.rotating:
            # A refresh token presented again after the grace window (a copy elsewhere, a
            # restored backup) revokes the grant: the next refresh is invalid_grant.
            replay = make(client.app, client.key.user)
            with pytest.raises(GrantRejected):  # the server's verdict on the replay itself
                await replay._refresh(first, "replay")
            await replay.aclose()
            clock.behind = 0
            app.clock.advance(400)
            with pytest.raises(ReauthorizationRequired) as refused:
                await platform.check(client)
            assert refused.value.key == client.key
            status = await vault.status(client.key)
            assert status.needs_reauth and status.failures == 1
            with pytest.raises(ReauthorizationRequired):  # at once, without asking again
                await client.access_token()
    finally:
        await client.aclose()
        await vault.close()

    held = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for value in seen - {""}:
        assert value.encode() not in held, "a token or secret in the vault's files"
        assert value not in caplog.text, "a token or secret in the logs"
    assert "[vgsdk-" in caplog.text  # refreshes are logged with their correlation id


def _none() -> NoReturn:
    raise AssertionError("no record stored")
