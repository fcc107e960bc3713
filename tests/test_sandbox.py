"""The sandbox's delegated flow: its user and app, the callback page, the printed walk-through."""

from __future__ import annotations

import base64
import html
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from markupsafe import escape

from tests.conftest import App
from tests.fixtures.live import free_port, server_env, voltgate_process
from tests.web.support import forms, query
from voltgate.app import create_app
from voltgate.config import Environment, Settings
from voltgate.errors import InvalidGrant
from voltgate.identity import pkce
from voltgate.sandbox.world import provision_sandbox
from voltgate.web.sandbox import ACCESS_FIELD, TRY_SCOPE

HOSTILE = "<script>alert(1)</script>'; touch /tmp/pwned #\"><img src=x>"


def _command(page: str) -> str:
    """The line the page shows to redeem the code, as it reads in a browser."""
    match = re.search(r"<pre><code>(.*?)</code></pre>", page, re.S)
    assert match, page
    return html.unescape(match.group(1))


def _curl(line: str) -> list[str]:
    """The curl of `export ACCESS_TOKEN=$(curl … | python3 …)`, split as a POSIX shell would."""
    head, _, tail = line.partition("$(")
    assert head == "export ACCESS_TOKEN=" and tail.endswith(")"), line
    curl, _, keep = tail[:-1].rpartition(" | ")
    assert keep == ACCESS_FIELD, line
    return shlex.split(curl)


def _paste(*lines: str) -> subprocess.CompletedProcess[str]:
    """The lines pasted into a fresh shell, which then prints $ACCESS_TOKEN."""
    script = "\n".join([*lines, 'printf %s "$ACCESS_TOKEN"'])
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


def _assert_hardened(response: httpx.Response) -> None:
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_callback_page_escapes_the_code_and_state_and_quotes_the_code_for_the_shell(
    app: App,
) -> None:
    creds = await provision_sandbox(app.rt, app.rt.settings.issuer)
    params = urlencode({"code": HOSTILE, "state": HOSTILE, "iss": app.rt.settings.issuer})
    response = await app.http.get(f"/sandbox/callback?{params}")

    assert response.status_code == 200
    _assert_hardened(response)
    assert "<script>" not in response.text and "<img" not in response.text
    assert response.text.count(str(escape(HOSTILE))) == 2  # code and state, as text
    argv = _curl(_command(response.text))
    # A made-up code names no app: the line leaves the client id to the shell, and says why.
    assert argv[argv.index("-u") + 1] == "$CLIENT_ID:$CLIENT_SECRET"
    assert 'id="unknown-code"' in response.text
    assert f"code={HOSTILE}" in argv  # one argument: nothing of it reaches the shell as syntax
    assert f"redirect_uri={creds['third_party_app']['redirect_uri']}" in argv
    assert "code_verifier=$VERIFIER" in argv


async def test_callback_page_names_the_app_the_code_was_issued_to_and_leaves_it_unused(
    app: App,
) -> None:
    issuer = app.rt.settings.issuer
    creds = await provision_sandbox(app.rt, issuer)
    user = await app.rt.identity.users.create("dev@example.com", "correct horse battery staple")
    mine = await app.rt.developer_apps.register(
        user.id,
        name="My own app",
        kind="third_party",
        scopes=["openid"],
        redirect_uris=f"{issuer}/sandbox/callback",
        allowed_origins="",
        stage="sandbox",
    )
    verifier = "v" * 43
    for client, secret in (
        (mine.owned.client, mine.secret),
        (await app.rt.identity.admin.show(creds["third_party_app"]["client_id"]), None),
    ):
        code = await app.rt.identity.delegation.issue_code(
            client=client,
            user_id=user.id,
            redirect_uri=f"{issuer}/sandbox/callback",
            scopes=("openid",),
            auth_time=app.clock.now(),
            code_challenge=pkce.s256(verifier),
        )
        response = await app.http.get(f"/sandbox/callback?{urlencode({'code': code})}")
        assert response.status_code == 200
        argv = _curl(_command(response.text))
        assert argv[argv.index("-u") + 1] == f"{client.id}:$CLIENT_SECRET"
        assert 'id="unknown-code"' not in response.text
        if secret is not None:  # shown, not spent: the code still redeems once
            tokens = await app.http.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": f"{issuer}/sandbox/callback",
                    "code_verifier": verifier,
                },
                auth=(client.id, secret),
            )
            assert tokens.status_code == 200, tokens.text


async def test_callback_page_escapes_an_error(app: App) -> None:
    params = urlencode({"error": HOSTILE, "error_description": HOSTILE, "state": "s"})
    response = await app.http.get(f"/sandbox/callback?{params}")

    assert response.status_code == 200
    _assert_hardened(response)
    assert "<script>" not in response.text and "<img" not in response.text
    assert response.text.count(str(escape(HOSTILE))) == 2
    assert "<pre>" not in response.text  # no code, nothing to redeem
    assert (await app.http.get("/sandbox/callback")).status_code == 400


async def test_callback_page_does_not_exist_in_production(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, master_key=key)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/sandbox/callback?code=abc&state=s")
    assert response.status_code == 404


async def test_the_world_is_an_operator_with_sites_and_chargers_and_users_with_vehicles_and_a_home(
    app: App, tmp_path: Path
) -> None:
    state = tmp_path / "fleet.json"
    first = await provision_sandbox(app.rt, "http://127.0.0.1:8000", fleet=3, fleet_state=state)
    again = await provision_sandbox(app.rt, "http://127.0.0.1:8000", fleet=3, fleet_state=state)

    operator = first["operator"]["client_id"]
    sites = (await app.rt.fleet.sites.page(operator, 1, 100)).items
    assert sorted(s.timezone for s in sites) == ["Europe/Berlin", "Europe/London"]
    devices = [await app.rt.fleet.devices.get(operator, d) for d in first["chargers"]]
    assert len(devices) == 4  # three public chargers over both sites, and a home charger
    assert {d.site_id for d in devices[:3]} == {s.id for s in sites}
    home = devices[3]
    assert home.site_id is None and home.owner_user_id == first["users"][0]["user_id"]
    saved = orjson.loads(state.read_bytes())
    assert [c["device_id"] for c in saved["chargers"]] == first["chargers"]
    assert saved["server"] == "http://127.0.0.1:8000" and state.stat().st_mode & 0o077 == 0

    vins = set()
    for user in first["users"]:
        assert len(user["vehicles"]) == 3
        vins |= {v["vin"] for v in user["vehicles"]}
        (site,) = await app.rt.owner.energy.of_user(user["user_id"])
        assert site.id == user["energy_site_id"]
    assert len(vins) == 6
    # A restart keeps the world: the same chargers, vehicles and sites, with new secrets.
    assert again["chargers"] == first["chargers"]
    for before, after in zip(first["users"], again["users"], strict=True):
        assert after["vehicles"] == before["vehicles"]
        assert after["energy_site_id"] == before["energy_site_id"]
        assert after["password"] != before["password"]
    assert again["operator"]["site_ids"] == first["operator"]["site_ids"]


async def test_each_start_reissues_the_password_and_a_new_address_replaces_the_app(
    app: App,
) -> None:
    first = await provision_sandbox(app.rt, "http://127.0.0.1:8000")
    second = await provision_sandbox(app.rt, "http://127.0.0.1:8001")

    assert second["users"][0]["user_id"] == first["users"][0]["user_id"]
    assert second["users"][0]["password"] != first["users"][0]["password"]
    with pytest.raises(InvalidGrant):
        await app.rt.identity.users.authenticate(
            second["users"][0]["email"], first["users"][0]["password"], None
        )
    user = await app.rt.identity.users.authenticate(
        second["users"][0]["email"], second["users"][0]["password"], None
    )
    assert user.display_name == "Sandbox Driver"
    assert second["operator"]["client_id"] == first["operator"]["client_id"]
    assert second["third_party_app"]["redirect_uri"] == "http://127.0.0.1:8001/sandbox/callback"
    assert (await app.rt.identity.admin.show(first["third_party_app"]["client_id"])).disabled
    assert not (await app.rt.identity.admin.show(second["third_party_app"]["client_id"])).disabled


# -- live: `voltgate sandbox` as a user runs it ---------------------------------------------
@dataclass
class Sandbox:
    base_url: str
    creds: dict[str, Any]
    console: str  # everything the process printed before it became ready
    verifier: str
    authorize_url: str


@contextmanager
def _sandbox(tmp_path: Path, port: int, run: str) -> Iterator[Sandbox]:
    """`voltgate sandbox` on 127.0.0.1:`port` over `tmp_path/data`; stopped on the way out."""
    base = f"http://127.0.0.1:{port}"
    creds_path, log_path = tmp_path / f"creds-{run}.json", tmp_path / f"sandbox-{run}.log"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--credentials-out", str(creds_path)]
    with voltgate_process(args, server_env(tmp_path / "data"), log_path, base):
        printed = log_path.read_text(errors="replace")
        verifier = re.search(r"VERIFIER=(\S+)", printed)
        url = re.search(r"^\s+(http://\S+/oauth/authorize\?\S+)$", printed, re.M)
        assert verifier and url, printed
        creds = orjson.loads(creds_path.read_bytes())
        yield Sandbox(base, creds, printed, verifier.group(1), url.group(1))


def _sign_in(http: httpx.Client, page: httpx.Response, email: str, password: str) -> httpx.Response:
    form = next(f for f in forms(page.text) if f.action == "/login")
    return http.post("/login", data={**form.fields, "email": email, "password": password})


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed lines need curl")
def test_the_printed_delegated_flow_works_in_a_browser_and_restarts_reissue_secrets(
    tmp_path: Path,
) -> None:
    port = free_port()
    with _sandbox(tmp_path, port, "first") as sb, httpx.Client(base_url=sb.base_url) as http:
        user, app = sb.creds["users"][0], sb.creds["third_party_app"]
        assert user["email"] == "driver@sandbox.voltgate.test"
        assert app["redirect_uri"] == f"{sb.base_url}/sandbox/callback"
        for secret in (user["password"], app["client_secret"], sb.verifier):
            assert secret in sb.console  # shown once, for the person who started it
        state = query(sb.authorize_url)["state"]
        assert query(sb.authorize_url)["scope"] == TRY_SCOPE
        # The landing page names the credentials file, never what is in it.
        landing = http.get("/").text
        assert str(tmp_path / "creds-first.json") in landing
        assert user["password"] not in landing and app["client_secret"] not in landing

        sign_in = http.get(sb.authorize_url)
        assert sign_in.status_code == 200 and "Sign in" in sign_in.text
        back = _sign_in(http, sign_in, user["email"], user["password"])
        assert back.status_code == 303, back.text
        consent = http.get(back.headers["location"])
        assert consent.status_code == 200 and "Authorize Sandbox app?" in consent.text
        form = next(f for f in forms(consent.text) if f.action == "/oauth/authorize/decision")
        redirect = http.post(form.action, data={**form.fields, "decision": "allow"})
        assert redirect.status_code == 302, redirect.text
        location = redirect.headers["location"]
        assert location.startswith(app["redirect_uri"] + "?")
        code = query(location)["code"]
        assert query(location)["state"] == state

        callback = http.get(location)
        assert callback.status_code == 200
        assert code in callback.text and state in callback.text
        line = _command(callback.text)
        assert _curl(line) == [
            "curl",
            "-s",
            "-u",
            f"{app['client_id']}:$CLIENT_SECRET",
            "-d",
            "grant_type=authorization_code",
            "--data-urlencode",
            f"code={code}",
            "--data-urlencode",
            f"redirect_uri={app['redirect_uri']}",
            "--data-urlencode",
            "code_verifier=$VERIFIER",
            f"{sb.base_url}/oauth/token",
        ]
        # The terminal printed the same line, reading the code from $CODE.
        printed = re.search(r"^\s+(export ACCESS_TOKEN=.*)$", sb.console, re.M)
        assert printed, sb.console
        assert printed.group(1).replace('"code=$CODE"', shlex.quote(f"code={code}")) == line

        # Pasted into a shell as printed: the secret and verifier, then the page's line.
        exports = re.search(r"^\s+(export CLIENT_ID=.*)$", sb.console, re.M)
        assert exports, sb.console
        pasted = _paste(exports.group(1), line)
        token = pasted.stdout
        assert pasted.returncode == 0 and token.startswith("eyJ"), pasted
        userinfo = http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert userinfo.status_code == 200, userinfo.text
        assert userinfo.json()["sub"] == user["user_id"]
        # A second paste is refused (a code works once) and says why instead of keeping it.
        again = _paste(exports.group(1), line)
        assert again.stdout == "" and '"invalid_grant"' in again.stderr, again
    logs = [line for line in sb.console.splitlines() if line.startswith("{")]
    for secret in (user["password"], app["client_secret"], code):
        assert not any(secret in line for line in logs)

    with _sandbox(tmp_path, port, "second") as again, httpx.Client(base_url=sb.base_url) as http:
        renewed, renewed_app = again.creds["users"][0], again.creds["third_party_app"]
        assert renewed["user_id"] == user["user_id"]
        assert renewed_app["client_id"] == app["client_id"]  # same address: same app
        page = http.get("/login")
        refused = _sign_in(http, page, user["email"], user["password"])
        assert refused.status_code == 401
        assert _sign_in(http, refused, user["email"], renewed["password"]).status_code == 303
        for secret, error in (
            (app["client_secret"], "invalid_client"),
            (renewed_app["client_secret"], "invalid_grant"),
        ):
            answer = http.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": "vgac_test_unknown",
                    "redirect_uri": app["redirect_uri"],
                    "code_verifier": again.verifier,
                },
                auth=(app["client_id"], secret),
            )
            assert answer.json()["error"] == error, answer.text
