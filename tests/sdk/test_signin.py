"""The SDK's sign-in against a live voltgate: the same client code builds the authorization URL
from each platform's profile (state and a PKCE S256 pair), a person signs in and allows on
voltgate's pages, and the redirect's code is redeemed with that sign-in's verifier; an answer
of another sign-in, a refusal and a borrowed verifier all fail, and no state, verifier, code or
token reaches the logs. The blocking client does the same, and reads its grant's status."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from base64 import urlsafe_b64encode
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.live import LiveServer
from tests.web.support import PASSWORD, Flow, query
from voltgate.sdk.profiles import ProfileError
from voltgate.sdk.vault import (
    ApiClient,
    AppCredentials,
    AsyncApiClient,
    GrantRejected,
    NoGrant,
    SignIn,
    SignInError,
    TokenVault,
)

ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

REDIRECT = "https://app.example/callback"
EMAIL = "driver@example.com"
# profile: (its authorization path on voltgate, scopes, a resource the user's token reads)
PLATFORMS = {
    "voltgate": ("/oauth/authorize", "openid offline_access profile", "/v1/me"),
    "tesla": ("/oauth2/v3/authorize", "openid offline_access user_data", "/api/1/users/me"),
    "evenergy": ("/o/authorize/", "charging_session:read", "/v2/charging_sessions"),
}


def _app(live: LiveServer, scopes: str) -> AppCredentials:
    made = live.cli_json(
        "clients", "create", "--name", "sdk sign-in", "--kind", "third_party",
        "--scopes", scopes, "--redirect-uri", REDIRECT,
    )  # fmt: skip
    return AppCredentials(str(made["client_id"]), str(made["client_secret"]))


async def _allow(base_url: str, url: str) -> str:
    """A person at `url`: signs in, allows (when asked); the URL the browser is sent back to."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        page = await http.get(url)
        flow = Flow(http, client_id="")
        if page.status_code == 200 and "Sign in" in page.text:
            page = await flow.sign_in(page, EMAIL)
        if page.status_code == 200 and "Authorize" in page.text:
            page = await flow.decide(page)
        assert page.status_code == 302, page.text
        landed = page.headers["location"]
    assert landed.startswith(REDIRECT + "?"), landed
    return str(landed)


@ON_SQLITE
@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_one_sign_in_helper_serves_every_platforms_profile(
    live: LiveServer, tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path, scopes, resource = PLATFORMS[name]
    live.cli_json("users", "create", "--email", EMAIL, "--password", PASSWORD)
    app = _app(live, scopes)
    vault = TokenVault(path=tmp_path / "vault.db")
    client = AsyncApiClient(name, vault, app, "u-1", base_url=live.base_url)
    try:
        sign_in = client.start_sign_in(REDIRECT, scopes)
        url = urlsplit(sign_in.url)
        sent = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == live.base_url + path
        assert sent["state"] == sign_in.state and sent["code_challenge_method"] == "S256"
        digest = hashlib.sha256(sign_in.code_verifier.encode()).digest()
        assert sent["code_challenge"] == urlsafe_b64encode(digest).decode().rstrip("=")
        assert 43 <= len(sign_in.code_verifier) <= 128 and "code_verifier" not in sent
        assert sign_in.code_verifier not in repr(sign_in) and sign_in.state not in repr(sign_in)

        landed = await _allow(live.base_url, sign_in.url)
        other = client.start_sign_in(REDIRECT, scopes)  # the answer is not this one's
        with pytest.raises(SignInError, match="state_mismatch"):
            await client.finish_sign_in(other, landed)
        with pytest.raises(NoGrant, match=f"no stored grant for {name}/.*/u-1: sign in again"):
            await client.status()
        await client.finish_sign_in(sign_in, landed)
        assert not (await client.status()).needs_reauth
        read = await client.request("GET", resource)
        assert read.status_code == 200, read.text

        # The code is bound to its own sign-in's verifier: another's is refused by voltgate.
        again = client.start_sign_in(REDIRECT, scopes)
        borrowed = dataclasses.replace(again, code_verifier=other.code_verifier)
        with pytest.raises(GrantRejected):
            await client.finish_sign_in(borrowed, await _allow(live.base_url, again.url))
        refused = {"error": "access_denied", "state": other.state}
        with pytest.raises(SignInError, match="access_denied"):
            await client.finish_sign_in(other, refused)
        tokens = await vault.tokens(client.key, client._refresh)
    finally:
        await client.aclose()
        await vault.close()
    # The test's own page requests log the URLs carrying state and code; the SDK logs neither.
    sdk = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("voltgate"))
    for value in (sign_in.state, query(landed)["code"]):
        assert value not in sdk, "a state or code in the SDK's logs"
    held = {sign_in.code_verifier, other.code_verifier, tokens.access_token,
            tokens.refresh_token or "", app.client_secret or ""}  # fmt: skip
    for value in held - {""}:
        assert value not in caplog.text, "a verifier, token or secret in the logs"
    assert f"grant stored: {name}/" in sdk


@ON_SQLITE
def test_the_blocking_client_signs_in_and_reports_its_grant(
    live: LiveServer, tmp_path: Path
) -> None:
    _path, scopes, resource = PLATFORMS["tesla"]
    live.cli_json("users", "create", "--email", EMAIL, "--password", PASSWORD)
    vault = TokenVault(path=tmp_path / "vault.db")
    with ApiClient("tesla", vault, _app(live, scopes), "u-1", base_url=live.base_url) as client:
        with pytest.raises(NoGrant):
            client.status()
        sign_in: SignIn = client.start_sign_in(REDIRECT, scopes)
        client.finish_sign_in(sign_in, asyncio.run(_allow(live.base_url, sign_in.url)))
        status = client.status()
        assert not status.needs_reauth and status.failures == 0
        assert status.key_id == vault.keys.current_key_id()
        assert client.request("GET", resource).status_code == 200
    tellus = ApiClient("tellus", vault, AppCredentials("c"), base_url=live.base_url)
    with tellus, pytest.raises(ProfileError, match="tellus: no authorization endpoint"):
        tellus.start_sign_in(REDIRECT)  # client credentials: no user signs in
