"""What `voltgate sandbox` prints for a person to paste: credentials, then the requests that use
them, each on a line of its own (the live tests paste every one)."""

from __future__ import annotations

import secrets
import shlex
import sys
from pathlib import Path
from typing import Any

import orjson

from voltgate.cli.common import console
from voltgate.web import sandbox as sandbox_page


def show(text: str) -> None:
    """A line to copy: printed as is (no markup, emoji codes or wrapping)."""
    console.print(text, markup=False, emoji=False, soft_wrap=True)


def operator(base: str, op: dict[str, Any]) -> None:
    console.print("[bold]The operator[/bold] (Tellus: sites, chargers, commands, energy data):")
    show(f"  operator client_id:     {op['client_id']}")
    show(f"  operator client_secret: {op['client_secret']}")
    console.print("Get a token (paste into another shell):")
    basic = shlex.quote(op["client_id"] + ":" + op["client_secret"])
    show(
        f"  export TOKEN=$(curl -s -u {basic} -d grant_type=client_credentials "
        f"{base}/oauth/token | {sandbox_page.ACCESS_FIELD})"
    )
    body = orjson.dumps(
        {
            "client_id": op["client_id"],
            "client_secret": op["client_secret"],
            "grant_type": "client_credentials",
        }
    ).decode()
    show("  or Tellus-style (JSON body, {code, message, data} envelope):")
    show(
        f"  curl -s -H 'Content-Type: application/json' -d {shlex.quote(body)} "
        f"{base}/v1/operator/oauth/token"
    )
    auth = '-H "Authorization: Bearer $TOKEN"'
    console.print("Then:")
    show(f"  curl -s {auth} {base}/v1/operator/sites")
    show(f"  curl -s {auth} {base}/v1/operator/devices")
    show(f"  curl -s {auth} '{base}/v1/operator/charging-records?limit=5'")
    site = op["site_ids"][0] if op.get("site_ids") else None
    site_part = f"&site={site}" if site else ""
    show(f"  curl -s {auth} '{base}/v1/operator/aggregated/energy?granularity=hour{site_part}'")


def _cli() -> str:
    """This installation's `voltgate`, as a shell runs it (the venv's is not on PATH)."""
    script = Path(sys.executable).with_name("voltgate")
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m voltgate"


def metrics(base: str, port: int | None, data: Path) -> None:
    """Where the metrics are. No sandbox client has `voltgate:admin` (it can create and disable
    clients): the scraper's client is made on purpose, with the CLI."""
    console.print("[bold]Metrics[/bold] (Prometheus text): /metrics, for a voltgate:admin token.")
    if port is not None:
        show(f"  without a token, from this machine: curl -s http://127.0.0.1:{port}/metrics")
    show("  An admin client (its secret shown once), with this sandbox's CLI and data:")
    show(
        f"  VOLTGATE_DATA_DIR={shlex.quote(str(data))} {_cli()} clients create --name scraper"
        " --kind operator --scopes voltgate:admin"
    )
    show(
        "  export ADMIN=$(curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
        f"{base}/oauth/token | {sandbox_page.ACCESS_FIELD})"
    )
    show(f'  curl -s -H "Authorization: Bearer $ADMIN" {base}/metrics')


def delegated_flow(base: str, user: dict[str, Any], app: dict[str, str]) -> None:
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    console.print("[bold]Try the delegated flow[/bold] (a user lets the sandbox app act for them):")
    show(f"  user email:        {user['email']}")
    show(f"  user password:     {user['password']}")
    show(f"  app client_id:     {app['client_id']}")
    show(f"  app client_secret: {app['client_secret']}")
    show("  1. In the shell you will redeem the code from:")
    secret = shlex.quote(app["client_secret"])
    client_id = shlex.quote(app["client_id"])
    show(
        f"     export CLIENT_ID={client_id} CLIENT_SECRET={secret} VERIFIER={shlex.quote(verifier)}"
    )
    show(f"  2. Open in a browser, sign in as the user and Allow (state: {state}):")
    show(f"     {sandbox_page.authorize_url(base, app['client_id'], verifier, state)}")
    show(
        f"  3. The browser lands on {app['redirect_uri']}, which shows the code and this line "
        "with the code in place (or set CODE): it redeems the code, once, and keeps the "
        "access token:"
    )
    show(f"     {sandbox_page.redeem_command(base, app['client_id'])}")
    auth = '-H "Authorization: Bearer $ACCESS_TOKEN"'
    show("  4. Then, as that user (Tesla Fleet API and ev.energy shapes):")
    show(f"     curl -s {auth} {base}/oauth/userinfo")
    show(f"     curl -s {auth} {base}/api/1/products")
    show(f"     curl -s {auth} {base}/api/1/vehicles")
    awake, asleep, signed = user["vehicles"]  # seeding order (voltgate.vehicles.seed)
    vehicles = f"{base}/api/1/vehicles"
    show(f"     curl -s {auth} {vehicles}/{awake['id']}/vehicle_data")
    show(f"     curl -s {auth} {vehicles}/{asleep['id']}/vehicle_data   # asleep: 408")
    show(f"     curl -s {auth} -X POST {vehicles}/{asleep['id']}/wake_up")
    limit = "-H 'Content-Type: application/json' -d '{\"percent\": 85}'"
    show(f"     curl -s {auth} {limit} {vehicles}/{awake['id']}/command/set_charge_limit")
    show(
        f"     curl -s {auth} {limit} {vehicles}/{signed['vin']}/command/set_charge_limit"
        "   # 403: signed commands only (docs/vehicle-commands.md)"
    )
    show(f"     curl -s {auth} {base}/api/1/users/me")
    show(f"     curl -s {auth} {base}/api/1/energy_sites/{user['energy_site_id']}/live_status")
    show(f"     curl -s {auth} {base}/api/1/dx/charging/history")
    show(f"     curl -s {auth} {base}/v2/charging_sessions")


def beenergised(base: str, be: dict[str, str], near: tuple[float, float]) -> None:
    """be.ENERGISED's guide, with the sandbox's pre-shared key and demo contact filled in."""
    console.print(
        "[bold]be.ENERGISED[/bold] (GraphQL at /graphql, explorer at /graphiql): a contact's "
        "session, charge points near them, contracts and remote charging:",
        soft_wrap=True,
    )
    show(f"  pre-shared key (PSK): {be['psk']}")
    show(f"  demo contact:         {be['username']} / {be['password']}")
    show("  Start a session (the guide's request, its PSK as bearer) and keep the session token:")
    sign_in = (
        f'mutation{{ initSession(username: "{be["username"]}", password: "{be["password"]}") '
        "{ sessionToken refreshToken } }"
    )
    pick = (
        "python3 -c 'import json,sys; a=json.load(sys.stdin); "
        'print((a.get("data") or {}).get("initSession", {}).get("sessionToken") '
        "or sys.exit(json.dumps(a)))'"
    )
    psk = shlex.quote(f"Authorization: Bearer {be['psk']}")
    show(
        f"  export SESSION=$(curl -s -H {psk} -H 'Content-Type: application/json' "
        f"--data-raw {shlex.quote(sign_in)} {base}/graphql | {pick})"
    )
    auth = '-H "Authorization: Bearer $SESSION"'
    json = "-H 'Content-Type: application/json'"
    me = shlex.quote(orjson.dumps({"query": "{ me { id name email username } }"}).decode())
    show("  Then, as the contact: who they are, and the charge points within 5 km:")
    show(f"  curl -s {auth} {json} -d {me} {base}/graphql")
    nearby = orjson.dumps(
        {
            "query": "query($lat: Float!, $lon: Float!) { cpsPaged(filter: {position: "
            "{latitude: $lat, longitude: $lon}, radius: 5}, pagination: {limit: 5}) { "
            "pagination { totalCount } data { name distance evses { evseId status "
            "connectors { id standard maxElectricPower } } } } }",
            "variables": {"lat": near[0], "lon": near[1]},
        }
    ).decode()
    show(f"  curl -s {auth} {json} -d {shlex.quote(nearby)} {base}/graphql")
    show(f"  Explore the schema and try them in GraphiQL: {base}/graphiql")


def telemetry(base: str, user: dict[str, Any], hostname: str, port: int) -> None:
    """Fleet Telemetry, as that user's app: configure a vehicle to stream, then see it synced."""
    vin = user["vehicles"][0]["vin"]
    auth = '-H "Authorization: Bearer $ACCESS_TOKEN"'
    config = {
        "vins": [vin],
        "config": {
            "hostname": hostname,
            "port": port,
            "fields": {
                "Soc": {"interval_seconds": 5, "minimum_delta": 0.1},
                "ChargeState": {"interval_seconds": 5},
                "ACChargingPower": {"interval_seconds": 5},
                "Location": {"interval_seconds": 60},
            },
        },
    }
    body = shlex.quote(orjson.dumps(config).decode())
    show("  5. Stream its first vehicle's signals (Fleet Telemetry), and see the vehicle run it:")
    show(
        f"     curl -s {auth} -H 'Content-Type: application/json' -d {body} "
        f"{base}/api/1/vehicles/fleet_telemetry_config"
    )
    show(f"     curl -s {auth} {base}/api/1/vehicles/{vin}/fleet_telemetry_config")
