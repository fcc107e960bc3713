"""Live: `voltgate pulse` against a sandbox (issue 18's done-when line for pulse).

A `voltgate sandbox` on 127.0.0.1 (its listener and simulated cars streaming for real), a
sandbox app registered for pulse's redirect URI, and `voltgate pulse` as its own process signed
in through Chromium (authorization code + PKCE). The test then drives the user's charging
Model 3 through the sandbox's vehicle controls (`/sandbox/vehicles/{vin}`: unplug, drive away,
plug in, come home, lose charge while parked); the sandbox's car streams it and pulse acts on
the stream alone: the weekday limit on plug-in, preconditioning on arrival inside the window, an
idle-drain alert; the dashboard's plots are checked in Chromium screenshots; the server's
access log has no vehicle_data. Another test runs pulse with the app's key: *Sparrow*, which
takes only signed commands, is named on the dashboard until its owner pairs the key at
`/_ak/<domain>` (in Chromium), then streams and takes pulse's signed commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.fixtures.keyhost import key_host
from tests.fixtures.live import free_port, listening, server_env, voltgate_process
from tests.pulse.support import Driver, admin_token, blue_pixels

T = TypeVar("T")
WEEKDAY_LIMIT, WEEKEND_LIMIT = 72, 95
SCOPES = (
    "openid offline_access user_data vehicle_device_data vehicle_location vehicle_cmds "
    "vehicle_charging_cmds"
)


def until(what: str, check: Callable[[], T | None], timeout: float = 60) -> T:
    """Waits for `check` to return something truthy (a condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _window_around_now() -> str:
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}"


@contextmanager
def sandbox(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], dict[str, Any]]]:
    """A `voltgate sandbox` (no chargers) with its vehicle listener: (base URL, env, creds)."""
    env = server_env(tmp_path / "sandbox", environment="sandbox")
    port, telemetry_port = free_port(), int(env["VOLTGATE_TELEMETRY_PORT"])
    base, creds_path = f"http://127.0.0.1:{port}", tmp_path / "creds.json"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", "0",
            "--arrival-rate", "0", "--credentials-out", str(creds_path)]  # fmt: skip
    with voltgate_process(args, env, tmp_path / "sandbox.out", base):
        until("the sandbox's vehicle listener", lambda: listening(telemetry_port))
        yield base, env, json.loads(creds_path.read_text())


def test_pulse_against_the_sandbox(tmp_path: Path, chromium: Any) -> None:
    data = tmp_path / "sandbox"
    with sandbox(tmp_path) as (base, env, creds):
        telemetry_port = int(env["VOLTGATE_TELEMETRY_PORT"])
        user = creds["users"][0]
        vin = user["vehicles"][0]["vin"]  # the Model 3 charging at home
        driver = Driver(base, admin_token(env, base), vin)
        home = driver.read()
        pulse_port = free_port()
        pulse_base = f"http://127.0.0.1:{pulse_port}"
        created = _register_app(env, f"{pulse_base}/callback")
        pulse_env = {**env, "VOLTGATE_PULSE_CLIENT_SECRET": created["client_secret"]}
        pulse_args = [
            "pulse", "--server", base, "--client-id", created["client_id"],
            "--port", str(pulse_port), "--data-dir", str(tmp_path / "pulse"),
            "--telemetry-port", str(telemetry_port),
            "--home", f"{home['latitude']},{home['longitude']}", "--home-radius", "300",
            "--precondition-window", _window_around_now(),
            "--weekday-limit", str(WEEKDAY_LIMIT), "--weekend-limit", str(WEEKEND_LIMIT),
            "--weekend-days", "",  # every day a weekday: the weekday rule, whatever today is
            "--departure", "07:30", "--reminder-time", "",
        ]  # fmt: skip
        ready = _http_ok(f"{pulse_base}/healthz")
        with voltgate_process(pulse_args, pulse_env, tmp_path / "pulse.out", ready=ready):
            _sign_in(chromium, pulse_base, user)
            _drive(driver, pulse_base, vin, (home["latitude"], home["longitude"]))
            _dashboard(chromium, pulse_base, tmp_path)
    log = (data / "sandbox.log").read_text()  # whole once the sandbox stopped (the stream's line)
    assert "/api/1/vehicles/stream" in log and "/command/set_charge_limit" in log
    assert "vehicle_data" not in log


def _register_app(env: dict[str, str], redirect_uri: str) -> dict[str, str]:
    import subprocess
    import sys

    made = subprocess.run(
        [sys.executable, "-m", "voltgate", "clients", "create", "--name", "voltgate pulse",
         "--kind", "third_party", "--scopes", SCOPES, "--redirect-uri", redirect_uri, "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    answer: dict[str, str] = json.loads(made.stdout)
    return answer


def _http_ok(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    return ready


def _status(pulse_base: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{pulse_base}/status.json", timeout=5).json()
    return answer


def _allowed(context: Any, pulse_base: str, user: dict[str, Any]) -> Any:
    """A page where the user started pulse's sign-in, signed in to voltgate and allowed it."""
    page = context.new_page()
    page.goto(f"{pulse_base}/")
    page.get_by_role("link", name="Sign in with voltgate").click()
    page.get_by_label("Email").fill(user["email"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    return page


def _sign_in(chromium: Any, pulse_base: str, user: dict[str, Any]) -> None:
    context = chromium.new_context()
    try:
        page = _allowed(context, pulse_base, user)
        page.wait_for_url(f"{pulse_base}/")
        assert page.locator("#live").count() == 1  # the dashboard, signed in
    finally:
        context.close()
    until("pulse signed in", lambda: _status(pulse_base)["signed_in"])


def _car(pulse_base: str, vin: str) -> dict[str, Any]:
    car: dict[str, Any] = _status(pulse_base)["vehicles"].get(vin) or {}
    return car


def _drive(driver: Driver, pulse_base: str, vin: str, home: tuple[float, float]) -> None:
    # The seeded car charges at home; pulse learns that from the stream (no vehicle_data).
    until("the car's stream", lambda: _car(pulse_base, vin).get("charge_state") == "Charging")
    until("the car at home", lambda: _car(pulse_base, vin).get("near_home") is True)
    driver.unplug()
    driver.move(home[0] + 0.05, home[1])  # about 5.6 km north
    until("unplugged and away", lambda: _car(pulse_base, vin).get("near_home") is False
          and _car(pulse_base, vin).get("charge_state") == "Disconnected")  # fmt: skip
    driver.plug_in()  # at a charger away from home
    until("the weekday limit", lambda: driver.read()["charge_limit"] == WEEKDAY_LIMIT)
    assert not driver.read()["climate_on"]
    driver.unplug()
    until("unplugged", lambda: _car(pulse_base, vin).get("charge_state") == "Disconnected")
    driver.move(home[0] + 0.001, home[1])  # about 110 m from home, inside the window
    until("preconditioning", lambda: driver.read()["climate_on"])
    level = driver.read()["battery_level"]
    driver.battery(level - 3.0)  # the battery drains while parked
    until("an idle-drain alert", lambda: "idle_drain" in _status(pulse_base)["alerts"])
    driver.battery(15.0)  # below voltgate's rule pulse registered: a webhook
    until("the low-battery webhook", lambda: "low_battery" in _status(pulse_base)["alerts"])


def _dashboard(chromium: Any, pulse_base: str, tmp_path: Path) -> None:
    page = chromium.new_page(viewport={"width": 1000, "height": 1400})
    try:
        page.goto(f"{pulse_base}/")
        alerts = page.locator("#alerts").inner_text()
        assert "idle_drain" in alerts and "lost" in alerts and "low_battery" in alerts
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        for plot in ("soc", "power_kw"):
            points = page.locator(f"#{plot} polyline").first.get_attribute("data-points")
            assert int(points or 0) >= 2, plot
            png = page.locator(f"#{plot} svg").screenshot(path=str(tmp_path / f"{plot}.png"))
            assert blue_pixels(chromium, png) > 100, plot  # the line is drawn
        bars = page.locator("#energy rect.bar")
        heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]
        assert max(heights) > 1.0  # some energy today
        page.locator("#energy svg").screenshot(path=str(tmp_path / "energy.png"))
    finally:
        page.close()
    phone = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        phone.goto(f"{pulse_base}/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        png = phone.locator("#soc svg").screenshot(path=str(tmp_path / "soc-phone.png"))
        assert blue_pixels(chromium, png) > 100  # the plot still drawn
    finally:
        phone.close()


def test_pulse_signs_in_as_the_sandbox_s_seeded_app(tmp_path: Path, chromium: Any) -> None:
    """Out of the box: `--sandbox-credentials` signs in as the seeded app, whose redirect URI is
    the sandbox's callback page; the owner pastes the code it shows, and pulse streams."""
    with sandbox(tmp_path) as (_base, env, creds):
        user = creds["users"][0]
        pulse_port = free_port()
        pulse_base = f"http://127.0.0.1:{pulse_port}"
        args = ["pulse", "--sandbox-credentials", str(tmp_path / "creds.json"),
                "--port", str(pulse_port), "--data-dir", str(tmp_path / "pulse"),
                "--telemetry-port", env["VOLTGATE_TELEMETRY_PORT"]]  # fmt: skip
        ready = _http_ok(f"{pulse_base}/healthz")
        with voltgate_process(args, env, tmp_path / "pulse.out", ready=ready):
            context = chromium.new_context()
            try:
                page = _allowed(context, pulse_base, user)
                page.wait_for_url("**/sandbox/callback**")
                shown = page.locator("dd code")
                code, state = shown.nth(0).inner_text(), shown.nth(1).inner_text()
                page.goto(f"{pulse_base}/")
                page.get_by_label("Code").fill(code)
                page.get_by_label("State").fill(state)
                page.get_by_role("button", name="Finish signing in").click()
                page.wait_for_url(f"{pulse_base}/")
                assert page.locator("#live").count() == 1
            finally:
                context.close()
            vin = user["vehicles"][0]["vin"]
            until("the car's stream", lambda: _car(pulse_base, vin).get("charge_state"))
        # Restarted, pulse finds its grant in the vault and streams again without a sign-in
        # (the cars resend their state every minute at most; the test waits for the socket).
        with voltgate_process(args, env, tmp_path / "pulse.out", ready=ready):
            until("streaming again", lambda: _status(pulse_base)["streaming"])
            assert _status(pulse_base)["signed_in"]


def _cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    import subprocess
    import sys

    made = subprocess.run(
        [sys.executable, "-m", "voltgate", *args], env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    answer: dict[str, Any] = json.loads(made.stdout)
    return answer


def _register_domain(base: str, app: dict[str, str], domain: str) -> None:
    """The app registers the domain hosting its key, with its own client credentials."""
    partner = httpx.post(
        f"{base}/oauth2/v3/token", data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]), timeout=10,
    ).json()["access_token"]  # fmt: skip
    registered = httpx.post(
        f"{base}/api/1/partner_accounts", json={"domain": domain},
        headers={"Authorization": f"Bearer {partner}"}, timeout=30,
    )  # fmt: skip
    assert registered.status_code == 200, registered.text


def _pair(chromium: Any, base: str, domain: str, user: dict[str, Any], car: str) -> None:
    """The owner pairs the app's key with `car` at /_ak/<domain>, signed in, in a browser."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/_ak/{domain}")
        page.get_by_label("Email").fill(user["email"])
        page.get_by_label("Password").fill(user["password"])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label(car).check()
        page.get_by_role("button", name="Add key").click()
        page.wait_for_url(f"{base}/account/apps")
    finally:
        context.close()


def test_pulse_signs_for_a_vehicle_that_requires_the_protocol(
    tmp_path: Path, chromium: Any
) -> None:
    """`--app-key`: Sparrow (signed commands only) is named on the dashboard with the pairing
    page until its owner pairs the app's key there; then its signed config is taken, it
    streams, and pulse's charge limit on plug-in reaches it as a signed command."""
    with sandbox(tmp_path) as (base, env, creds):
        user = creds["users"][0]
        sparrow = next(v for v in user["vehicles"] if v["command_signing"] == "required")
        vin = sparrow["vin"]
        driver = Driver(base, admin_token(env, base), vin)
        pulse_port = free_port()
        pulse_base = f"http://127.0.0.1:{pulse_port}"
        created = _register_app(env, f"{pulse_base}/callback")
        keys = _cli_json(env, "keys", "app", "generate", "--out", str(tmp_path / "keys"), "--json")
        with key_host() as host:  # the app's own web server, serving its public key
            host.serve(Path(keys["public_key"]).read_bytes())
            _register_domain(base, created, host.domain)
        pulse_env = {**env, "VOLTGATE_PULSE_CLIENT_SECRET": created["client_secret"]}
        pulse_args = [
            "pulse", "--server", base, "--client-id", created["client_id"],
            "--port", str(pulse_port), "--data-dir", str(tmp_path / "pulse"),
            "--telemetry-port", env["VOLTGATE_TELEMETRY_PORT"], "--app-key", keys["private_key"],
            "--weekday-limit", str(WEEKDAY_LIMIT), "--weekend-days", "", "--reminder-time", "",
        ]  # fmt: skip
        ready = _http_ok(f"{pulse_base}/healthz")
        with voltgate_process(pulse_args, pulse_env, tmp_path / "pulse.out", ready=ready):
            _sign_in(chromium, pulse_base, user)
            until("Sparrow named unpaired", lambda: _status(pulse_base)["unpaired"] == [vin])
            page = chromium.new_page()
            try:
                page.goto(f"{pulse_base}/")
                said = page.locator("#signing")
                assert "Sparrow" in said.inner_text() and "does not know pulse's key" in (
                    said.inner_text()
                )
                link = said.get_by_role("link").get_attribute("href")
                assert link == f"{base}/_ak/{host.domain}"
            finally:
                page.close()
            _pair(chromium, base, host.domain, user, sparrow["display_name"])
            until("the signed config taken", lambda: _status(pulse_base)["unpaired"] == [])
            driver.move(driver.read()["latitude"] + 0.01, driver.read()["longitude"])  # wakes
            until("Sparrow's stream", lambda: _car(pulse_base, vin).get("charge_state"))
            driver.plug_in()
            until(
                "the weekday limit, signed", lambda: driver.read()["charge_limit"] == WEEKDAY_LIMIT
            )
            page = chromium.new_page()
            try:
                page.goto(f"{pulse_base}/")
                assert page.locator("#signing").count() == 0  # nothing left to say
                sent = page.locator("#actions").inner_text()
                assert vin in sent and "set_charge_limit" in sent and "True" in sent
            finally:
                page.close()
    log = (tmp_path / "sandbox" / "sandbox.log").read_text()
    assert f"/api/1/vehicles/{vin}/signed_command" in log
    assert "/api/1/vehicles/fleet_telemetry_config_jws" in log
    assert f"/api/1/vehicles/{vin}/command/" not in log  # never sent unsigned
