"""Live: `voltgate pulse` against a sandbox (issue 18's done-when line for pulse).

A `voltgate sandbox` on 127.0.0.1 (its listener and simulated cars streaming for real), a
sandbox app registered for pulse's redirect URI, and `voltgate pulse` as its own process signed
in through Chromium (authorization code + PKCE). The test then drives the user's charging
Model 3 as a car would change (unplug, drive away, plug in, come home, lose charge while
parked); the sandbox's car streams it and pulse acts on the stream alone: the weekday limit on
plug-in, preconditioning on arrival inside the window, an idle-drain alert; the dashboard's
plots are checked in Chromium screenshots; the server's access log has no vehicle_data.
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

from tests.fixtures.live import free_port, listening, server_env, voltgate_process
from tests.pulse.support import Driver, blue_pixels

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
        driver = Driver(data, vin)
        home = driver.read()
        pulse_port = free_port()
        pulse_base = f"http://127.0.0.1:{pulse_port}"
        created = _register_app(env, f"{pulse_base}/callback")
        pulse_env = {**env, "VOLTGATE_PULSE_CLIENT_SECRET": created["client_secret"]}
        pulse_args = [
            "pulse", "--server", base, "--client-id", created["client_id"],
            "--port", str(pulse_port), "--data-dir", str(tmp_path / "pulse"),
            "--telemetry-port", str(telemetry_port),
            "--home", f"{home.latitude},{home.longitude}", "--home-radius", "300",
            "--precondition-window", _window_around_now(),
            "--weekday-limit", str(WEEKDAY_LIMIT), "--weekend-limit", str(WEEKEND_LIMIT),
            "--weekend-days", "",  # every day a weekday: the weekday rule, whatever today is
            "--departure", "07:30", "--reminder-time", "",
        ]  # fmt: skip
        ready = _http_ok(f"{pulse_base}/healthz")
        try:
            with voltgate_process(
                pulse_args, pulse_env, tmp_path / "pulse.out", ready=ready
            ) as _pulse:
                _sign_in(chromium, pulse_base, user)
                _drive(driver, pulse_base, vin, home.latitude)
                _dashboard(chromium, pulse_base, tmp_path)
        finally:
            driver.close()
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


def _drive(driver: Driver, pulse_base: str, vin: str, home_lat: float) -> None:
    # The seeded car charges at home; pulse learns that from the stream (no vehicle_data).
    until("the car's stream", lambda: _car(pulse_base, vin).get("charge_state") == "Charging")
    until("the car at home", lambda: _car(pulse_base, vin).get("near_home") is True)
    driver.unplug(latitude=home_lat + 0.05)  # about 5.6 km north
    until("unplugged and away", lambda: _car(pulse_base, vin).get("near_home") is False
          and _car(pulse_base, vin).get("charge_state") == "Disconnected")  # fmt: skip
    driver.plug_in()
    until("the weekday limit", lambda: driver.read().charge_limit == WEEKDAY_LIMIT)
    assert not driver.read().climate_on
    driver.change(latitude=home_lat + 0.001)  # about 110 m from home, inside the window
    until("preconditioning", lambda: driver.read().climate_on)
    level = driver.unplug().battery_level
    until("parked", lambda: _car(pulse_base, vin).get("charge_state") == "Disconnected")
    driver.change(battery_level=level - 3.0)  # the battery drains while parked
    until("an idle-drain alert", lambda: "idle_drain" in _status(pulse_base)["alerts"])
    driver.change(battery_level=15.0)  # below voltgate's rule pulse registered: a webhook
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
