"""`voltgate pulse`: the owner automation app, as its own process (voltgate.pulse is imported
only when this command runs, and imports nothing of the server)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

Opt = typer.Option
# A host name, with a port for a sandbox's own domain (127.0.0.1:8000): no scheme, no path.
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


_MOVE = "stop what holds it or pick another --port"


def pulse(
    server: Annotated[
        str, Opt("--server", envvar="VOLTGATE_PULSE_SERVER", help="voltgate's base URL.")
    ] = "http://127.0.0.1:8000",
    client_id: Annotated[
        str,
        Opt(
            "--client-id",
            envvar="VOLTGATE_PULSE_CLIENT_ID",
            help="The app's client id (a sandbox app whose redirect URI is pulse's /callback).",
        ),
    ] = "",
    client_secret: Annotated[
        str,
        Opt(
            "--client-secret",
            envvar="VOLTGATE_PULSE_CLIENT_SECRET",
            help="The app's secret (better in the environment).",
        ),
    ] = "",
    host: Annotated[str, Opt("--host")] = "127.0.0.1",
    port: Annotated[int, Opt("--port")] = 8765,
    data_dir: Annotated[
        Path,
        Opt(
            "--data-dir",
            envvar="VOLTGATE_PULSE_DATA_DIR",
            help="Pulse's SQLite file and token vault.",
        ),
    ] = Path(".voltgate-pulse"),
    telemetry_host: Annotated[
        str, Opt("--telemetry-host", help="Where the vehicles stream (the sandbox's listener).")
    ] = "localhost",
    telemetry_port: Annotated[int, Opt("--telemetry-port")] = 4443,
    weekday_limit: Annotated[int, Opt("--weekday-limit", min=50, max=100)] = 80,
    weekend_limit: Annotated[int, Opt("--weekend-limit", min=50, max=100)] = 90,
    weekend_days: Annotated[
        str, Opt("--weekend-days", help="Comma-separated: sat,sun ('' for none).")
    ] = "sat,sun",
    departure: Annotated[
        str, Opt("--departure", help="HH:MM: a charge schedule ending then, set on plug-in.")
    ] = "",
    departure_days: Annotated[str, Opt("--departure-days")] = "Weekdays",
    home: Annotated[
        str, Opt("--home", help="LAT,LON of home, for preconditioning on arrival.")
    ] = "",
    home_radius: Annotated[
        float, Opt("--home-radius", help="Metres from home that count as arriving.")
    ] = 500.0,
    window: Annotated[
        str, Opt("--precondition-window", help="HH:MM-HH:MM when an arrival preconditions.")
    ] = "06:00-09:00",
    drain_threshold: Annotated[
        float,
        Opt("--drain-threshold", help="Percentage points lost while parked that raise an alert."),
    ] = 1.0,
    reminder_time: Annotated[
        str, Opt("--reminder-time", help="HH:MM of the plug-in reminder ('' for none).")
    ] = "21:00",
    reminder_below: Annotated[float, Opt("--reminder-below")] = 50.0,
    timezone: Annotated[str, Opt("--timezone", help="The owner's time zone (IANA).")] = "UTC",
    sandbox_credentials: Annotated[
        Path | None,
        Opt(
            "--sandbox-credentials",
            help="The file `voltgate sandbox --credentials-out` wrote: sign in as its seeded "
            "app (its redirect URI is the sandbox's callback page: paste the code it shows).",
        ),
    ] = None,
    app_key: Annotated[
        Path | None,
        Opt(
            "--app-key",
            envvar="VOLTGATE_PULSE_APP_KEY",
            help="The app's private key (PEM, `voltgate keys app generate`): signs the commands "
            "and stream configs of vehicles that require the vehicle command protocol.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    key_domain: Annotated[
        str,
        Opt(
            "--key-domain",
            envvar="VOLTGATE_PULSE_KEY_DOMAIN",
            help="The app's public-key domain (as registered, e.g. keys.example.com): names the "
            "page where an owner pairs the key, /_ak/DOMAIN. Without it pulse reads the app's "
            "partner account, which needs a client-credentials token (not a portal app's).",
        ),
    ] = "",
    open_browser: Annotated[
        bool, Opt("--open/--no-open", help="Open the sign-in page in a browser.")
    ] = False,
) -> None:
    """Run voltgate pulse: sign in with voltgate, then charge rules, preconditioning and alerts
    from the vehicles' live stream, and a dashboard on http://HOST:PORT/."""
    from voltgate.cli.common import fail
    from voltgate.cli.ports import ensure_free
    from voltgate.pulse.config import Config, Rules, clock_time
    from voltgate.pulse.config import window as parse_window
    from voltgate.pulse.http import CannotListen
    from voltgate.pulse.service import Pulse

    redirect: str | None = None
    if sandbox_credentials is not None:
        seeded = json.loads(sandbox_credentials.read_text())["third_party_app"]
        client_id, client_secret = seeded["client_id"], seeded["client_secret"]
        redirect = str(seeded["redirect_uri"])
        server = redirect.removesuffix("/sandbox/callback")
    if not client_id or not client_secret:
        raise typer.BadParameter("--client-id and --client-secret (or VOLTGATE_PULSE_CLIENT_*)")
    spot: tuple[float, float] | None = None
    if home:
        lat, lon = (float(x) for x in home.split(","))
        spot = (lat, lon)
    rules = Rules(
        weekday_limit=weekday_limit, weekend_limit=weekend_limit,
        weekend_days=frozenset(d.strip().lower()[:3] for d in weekend_days.split(",") if d.strip()),
        departure=clock_time(departure) if departure else None, departure_days=departure_days,
        home=spot, home_radius_m=home_radius, precondition_window=parse_window(window),
        drain_threshold=drain_threshold,
        reminder_time=clock_time(reminder_time) if reminder_time else None,
        reminder_below=reminder_below, timezone=timezone,
    )  # fmt: skip
    domain = key_domain.strip().lower()
    if domain and not _HOSTNAME.fullmatch(domain):
        raise typer.BadParameter(
            "a host name such as keys.example.com (no scheme or path; a sandbox's own domain "
            "has its port)",
            param_hint="--key-domain",
        )
    config = Config(
        server.rstrip("/"), client_id, client_secret, data_dir, host, port,
        telemetry_host, telemetry_port, rules, redirect, app_key, domain or None,
    )  # fmt: skip
    if app_key is not None:
        from voltgate.sdk.vehicle_command import InvalidKey, load_private_key

        try:
            load_private_key(app_key.read_bytes())
        except (InvalidKey, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--app-key") from None
    ensure_free(host, port, _MOVE)  # before its URL is printed
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = Pulse(config)
    typer.echo(
        f"voltgate pulse: {config.base_url}/ (sign in there; redirect URI {config.redirect_uri})"
    )
    if open_browser:
        webbrowser.open(f"{config.base_url}/")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(app.run())
    except CannotListen as exc:  # taken since the check above
        fail(f"{exc}; {_MOVE}")
