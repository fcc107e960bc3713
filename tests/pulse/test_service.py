"""Pulse's own bookkeeping, no server: the sign-ins under way (`/login` visits) stay bounded —
the oldest dropped beyond PENDING_MAX, each expired after PENDING_SECONDS — and what keeps it
from signing for a vehicle is on the dashboard with the pairing page as a link."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from voltgate.pulse import http, pages
from voltgate.pulse.config import Config
from voltgate.pulse.service import PENDING_MAX, PENDING_SECONDS, Pulse
from voltgate.pulse.signing import Signing
from voltgate.sdk.vault import TokenEndpointError, Tokens
from voltgate.sdk.vehicle_command import generate_private_key, private_key_pem


def _pulse(tmp_path: Path, app_key: Path | None = None) -> Pulse:
    return Pulse(Config("http://127.0.0.1:9", "vgc_app", "vgcs_secret", tmp_path, app_key=app_key))


async def _login(pulse: Pulse) -> str:
    """The state of a new sign-in (a visit to /login)."""
    answer = await pulse.handle(http.Request("/login", {}))
    assert answer.status == 302
    return parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]


async def _refused(pulse: Pulse, state: str) -> bool:
    answer = await pulse.handle(http.Request("/callback", {"code": "c", "state": state}))
    return answer.status == 400 and b"Not signed in: " in answer.body


async def test_pending_sign_ins_are_bounded_the_oldest_dropped(tmp_path: Path) -> None:
    pulse = _pulse(tmp_path)
    states = [await _login(pulse) for _ in range(PENDING_MAX * 3)]
    assert len(pulse.pending) == PENDING_MAX
    assert list(pulse.pending) == states[-PENDING_MAX:]  # the newest kept
    assert await _refused(pulse, states[0])  # dropped: an unknown sign-in


async def test_a_pending_sign_in_expires(tmp_path: Path) -> None:
    pulse = _pulse(tmp_path)
    now = [1000.0]
    pulse.monotonic = lambda: now[0]
    old = await _login(pulse)
    now[0] += PENDING_SECONDS + 1
    assert await _refused(pulse, old)  # too old to finish
    stale = await _login(pulse)
    now[0] += PENDING_SECONDS + 1
    await _login(pulse)  # a new visit sweeps what expired
    assert stale not in pulse.pending and len(pulse.pending) == 1


async def test_a_vehicle_whose_owner_has_not_paired_the_key_is_on_the_dashboard(
    tmp_path: Path,
) -> None:
    key = tmp_path / "app.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    pulse = _pulse(tmp_path, app_key=key)
    pulse.signing.learn([{"vin": "LRW3E7FA0RC000001", "display_name": "Sparrow",
                          "command_signing": "required"}])  # fmt: skip
    pulse.signing._domain = "keys.example.com"  # what the partner account says
    await pulse.signing.not_paired("LRW3E7FA0RC000001")
    assert pulse.status()["unpaired"] == ["LRW3E7FA0RC000001"]
    page = pages.dashboard(
        pulse.store, pulse.engine, False, time.time(), "on", list(pulse.signing.unpaired.values())
    ).decode()
    assert "Sparrow (LRW3E7FA0RC000001) does not know pulse&#x27;s key" in page
    assert '<a href="http://127.0.0.1:9/_ak/keys.example.com">' in page


class _App:
    """The app's own API client, refused a token as voltgate refuses a portal app's."""

    def __init__(self) -> None:
        self.calls = 0

    async def request(self, method: str, path: str, **_: object) -> httpx.Response:
        self.calls += 1
        raise TokenEndpointError(400, "unauthorized_client", "no client_credentials grant")


async def test_a_portal_app_s_key_domain_is_asked_once_and_the_dashboard_says_how_to_tell_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pulse = _pulse(tmp_path)
    app = _App()
    signing = Signing(None, pulse.api, app, "http://127.0.0.1:9")  # type: ignore[arg-type]
    signing.learn([{"vin": "LRW3E7FA0RC000001", "display_name": "Sparrow"}])
    with caplog.at_level(logging.INFO, "voltgate.pulse"):
        for _ in range(3):  # the retry loop's visits
            await signing.not_paired("LRW3E7FA0RC000001")
    assert app.calls == 1  # a final refusal: not asked again
    said = [r.getMessage() for r in caplog.records if "key domain is unknown" in r.getMessage()]
    assert len(said) == 1 and "unauthorized_client" in said[0] and "--key-domain" in said[0]
    shown = signing.unpaired["LRW3E7FA0RC000001"]
    assert "<" not in shown and "start pulse with --key-domain DOMAIN" in shown


async def test_a_told_key_domain_names_the_pairing_page_without_asking(tmp_path: Path) -> None:
    pulse = _pulse(tmp_path)
    app = _App()
    signing = Signing(None, pulse.api, app, "http://127.0.0.1:9", "keys.example.com")  # type: ignore[arg-type]
    await signing.not_paired("LRW3E7FA0RC000001")
    assert app.calls == 0
    page = pages.dashboard(
        pulse.store, pulse.engine, False, time.time(), "on", list(signing.unpaired.values())
    ).decode()
    assert '<a href="http://127.0.0.1:9/_ak/keys.example.com">' in page


def test_pulse_refuses_a_key_domain_with_a_scheme(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from voltgate.cli.main import app as cli

    argv = ["pulse", "--client-id", "vgc_a", "--client-secret", "s", "--data-dir", str(tmp_path),
            "--key-domain", "https://x.example/"]  # fmt: skip
    answer = CliRunner().invoke(cli, argv)
    assert answer.exit_code == 2 and "--key-domain" in answer.output


async def test_a_stale_sign_in_link_while_signed_in_links_the_dashboard(tmp_path: Path) -> None:
    pulse = _pulse(tmp_path)
    stale = http.Request("/callback", {"code": "c", "state": "gone"})
    signed_out = (await pulse.handle(stale)).body.decode()
    assert "Not signed in: a stale or unknown sign-in link" in signed_out
    assert 'href="/login"' in signed_out
    await pulse.vault.put(pulse.api.key, Tokens("at", "rt", time.time() + 3600))
    answer = await pulse.handle(stale)
    page = answer.body.decode()
    assert answer.status == 400 and "stale or unknown sign-in link" in page
    assert 'href="/">Open the dashboard' in page and "Not signed in" not in page
    assert 'href="/login"' not in page
