"""`python -m bench.protected`: every resource read of the sandbox world, and three writes,
against the server's own floor, in one run.

The server is `voltgate serve` (one granian worker) on a database provisioned with the sandbox
world (`voltgate.sandbox.world`: an operator with two sites and four chargers, users with
vehicles and a home energy site, a third-party app), plus some history made through the API
(telemetry, a charging record, events, a command). Each route is loaded with wrk for
`--duration` seconds after a warm-up; `/healthz` (the floor) and `/v1/me` (the guard alone) are
measured at the start and at the end of the same run, and each route's req/s is divided by
their mean. Writes: a start command, a site create, a heartbeat.

    .venv/bin/python -m bench.protected [--server sqlite|postgres|both] [--duration 10]
        [--warmup 2] [--connections 64] [--only SUBSTRING] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench import pyspy
from bench.loadgen import HttpRequest, LoadSettings, ensure_wrk, run_wrk
from bench.machine import describe, wait_quiet
from bench.servers import ROOT, Credentials, http_request, seeding, start_voltgate

ISSUER = "http://127.0.0.1"
FLOORS = ("healthz", "me")
# The issue's bars: GET routes against /healthz; writes against /healthz.
GET_BAR = {"sqlite": 0.4, "postgres": 0.3}
WRITE_BAR = 0.15
P99_BAR_MS = 10.0  # on the embedded default


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # a template over the world's ids
    principal: str  # operator | device | user | app | partner | none
    body: str | None = None

    @property
    def write(self) -> bool:
        return self.method != "GET"


ROUTES = (
    Route("healthz", "GET", "/healthz", "none"),
    Route("me", "GET", "/v1/me", "operator"),
    # Tellus: the operator's inventory, commands, records, energy, telemetry.
    Route("tellus sites", "GET", "/v1/operator/sites", "operator"),
    Route("tellus site", "GET", "/v1/operator/sites/{site}", "operator"),
    Route("tellus devices", "GET", "/v1/operator/devices", "operator"),
    Route("tellus device", "GET", "/v1/operator/devices/{device}", "operator"),
    Route("telemetry latest", "GET", "/v1/operator/devices/{device}/telemetry/latest", "operator"),
    Route(
        "telemetry raw", "GET", "/v1/operator/devices/{device}/telemetry?from={since}", "operator"
    ),
    Route(
        "telemetry series",
        "GET",
        "/v1/operator/devices/{device}/telemetry/series?connector=1&field=power_kw&resolution=1h",
        "operator",
    ),
    Route("events", "GET", "/v1/operator/devices/{device}/events", "operator"),
    Route("commands", "GET", "/v1/operator/commands", "operator"),
    Route("command", "GET", "/v1/operator/commands/{command}", "operator"),
    Route("charging records", "GET", "/v1/operator/charging-records", "operator"),
    Route("aggregated energy", "GET", "/v1/operator/aggregated/energy?granularity=day", "operator"),
    # voltgate's canonical inventory and account.
    Route("sites", "GET", "/v1/sites", "operator"),
    Route("site", "GET", "/v1/sites/{site}", "operator"),
    Route("devices", "GET", "/v1/devices", "operator"),
    Route("device", "GET", "/v1/devices/{device}", "operator"),
    Route("connected apps", "GET", "/v1/me/apps", "user"),
    Route("userinfo", "GET", "/oauth/userinfo", "user"),
    # The charger's own read: the long-poll answering at once.
    Route("device commands", "GET", "/v1/device/commands?wait=0", "device"),
    # Tesla Fleet API.
    Route("vehicles", "GET", "/api/1/vehicles", "user"),
    Route("vehicle", "GET", "/api/1/vehicles/{vehicle}", "user"),
    Route("vehicle_data", "GET", "/api/1/vehicles/{vehicle}/vehicle_data", "user"),
    Route("charging history", "GET", "/api/1/dx/charging/history", "user"),
    Route("products", "GET", "/api/1/products", "user"),
    Route("live_status", "GET", "/api/1/energy_sites/{energy_site}/live_status", "user"),
    Route("site_info", "GET", "/api/1/energy_sites/{energy_site}/site_info", "user"),
    Route(
        "calendar_history",
        "GET",
        "/api/1/energy_sites/{energy_site}/calendar_history?kind=energy&period=day",
        "user",
    ),
    Route("users me", "GET", "/api/1/users/me", "user"),
    Route("users region", "GET", "/api/1/users/region", "user"),
    Route("partner account", "GET", "/api/1/partner_accounts", "partner"),
    # ev.energy.
    Route("charging sessions", "GET", "/v2/charging_sessions", "user"),
    Route("charging session", "GET", "/v2/charging_sessions/{session}", "user"),
    # Writes. The heartbeat goes first: after the start commands its charger would have tens
    # of thousands of commands queued, and each heartbeat would deliver fifty of them.
    Route("heartbeat", "POST", "/v1/device/heartbeat", "device", '{"status":"ok"}'),
    Route(
        "start command",
        "POST",
        "/v1/operator/devices/{device}/connectors/1/start",
        "operator",
        '{"charge_power":7,"duration":600,"target_soc":80}',
    ),
    Route(
        "vehicle command",
        "POST",
        "/api/1/vehicles/{vehicle}/command/honk_horn",
        "user",
        "{}",
    ),
    Route(
        "site create",
        "POST",
        "/v1/operator/sites",
        "operator",
        '{"name":"Bench site","timezone":"Europe/Berlin"}',
    ),
)


async def seed(state: str) -> dict[str, Any]:
    """The sandbox world, a partner with a registered domain, and a code for the user's app."""
    from voltgate.cli.common import started_runtime
    from voltgate.sandbox.world import APP_SCOPES, provision_sandbox

    async with started_runtime() as rt:
        creds = await provision_sandbox(rt, ISSUER, fleet=4, fleet_state=Path(state))
        partner = await rt.identity.admin.create(
            name="bench partner", kind="partner", scopes="openid"
        )
        await rt.identity.partners.register(partner.client.id, "bench.example")
        app, user = creds["third_party_app"], creds["users"][0]
        client = await rt.identity.clients.get(app["client_id"])
        assert client is not None
        code = await rt.identity.delegation.issue_code(
            client=client,
            user_id=user["user_id"],
            redirect_uri=app["redirect_uri"],
            scopes=tuple(APP_SCOPES.split()),
            auth_time=rt.clock.now(),
        )
    return {
        "creds": creds,
        "partner": {"client_id": partner.client.id, "client_secret": partner.secret},
        "code": code,
    }


Http = Callable[[str, str, Mapping[str, str], bytes | None], Awaitable[bytes]]


def live_http(base_url: str) -> Http:
    """Requests to a live server (the bench's own loopback client)."""

    async def call(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        return http_request(method, base_url + path, headers=headers, body=body)

    return call


async def _post(http: Http, path: str, body: Any, headers: Mapping[str, str]) -> Any:
    raw = await http(
        "POST", path, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()
    )
    return json.loads(raw) if raw else None


async def _get(http: Http, path: str, headers: Mapping[str, str]) -> Any:
    return json.loads(await http("GET", path, headers, None))


async def _form(http: Http, path: str, client: tuple[str, str], form: dict[str, str]) -> Any:
    headers = {
        "Authorization": Credentials(*client).basic(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return json.loads(await http("POST", path, headers, urllib.parse.urlencode(form).encode()))


async def _device_token(http: Http, charger: dict[str, str]) -> str:
    body = {
        "grant_type": "client_credentials",
        "device_id": charger["device_id"],
        "device_secret": charger["device_secret"],
    }
    return str((await _post(http, "/v1/device/token", body, {}))["data"]["access_token"])


async def world(
    http: Http, made: dict[str, Any], state: Path
) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """Headers for each principal, and the ids the routes name, with history made through the
    API (so every read has rows to answer)."""
    creds = made["creds"]
    op, app, user = creds["operator"], creds["third_party_app"], creds["users"][0]
    redeemed = await _form(
        http,
        "/oauth2/v3/token",
        (app["client_id"], app["client_secret"]),
        {
            "grant_type": "authorization_code",
            "code": made["code"],
            "redirect_uri": app["redirect_uri"],
        },
    )
    chargers = json.loads(state.read_text())["chargers"]
    public, home = chargers[0], chargers[-1]  # the sandbox plans the home charger last
    grant = {"grant_type": "client_credentials"}
    partner = made["partner"]
    bearer = {
        "none": "",
        "operator": (
            await _form(http, "/oauth/token", (op["client_id"], op["client_secret"]), grant)
        )["access_token"],
        "device": await _device_token(http, public),
        "user": redeemed["access_token"],
        "partner": (
            await _form(
                http, "/oauth/token", (partner["client_id"], partner["client_secret"]), grant
            )
        )["access_token"],
    }
    headers = {k: ({"Authorization": f"Bearer {v}"} if v else {}) for k, v in bearer.items()}
    now = time.time()
    reading = {"connector": 1, "state": "charging", "power_kw": 7, "energy_kwh": 1}
    telemetry = {"timestamp": now - 30, "connectors": [reading]}
    await _post(http, "/v1/device/telemetry", telemetry, headers["device"])
    await _post(http, "/v1/device/events", {"events": [{"type": "boot"}]}, headers["device"])
    for charger, base in ((public, now - 3600), (home, now - 7200)):
        token = await _device_token(http, charger)
        record = {
            "transaction_id": f"bench-{int(base)}",
            "connector": 1,
            "started_at": base,
            "stopped_at": base + 1800,
            "energy_kwh": 12.5,
        }
        auth = {"Authorization": f"Bearer {token}"}
        await _post(http, "/v1/device/charging-records", record, auth)
    start = {"charge_power": 7, "duration": 600, "target_soc": 80}
    path = f"/v1/operator/devices/{public['device_id']}/connectors/1/start"
    command = (await _post(http, path, start, headers["operator"]))["data"]["command_id"]
    sessions = (await _get(http, "/v2/charging_sessions", headers["user"]))["data"]
    vehicle = user["vehicles"][0]
    ids = {
        "site": op["site_ids"][0],
        "device": public["device_id"],
        "command": command,
        "vehicle": vehicle["id"] if isinstance(vehicle, dict) else vehicle,
        "energy_site": user["energy_site_id"],
        "session": sessions[0]["id"] if sessions else "chrg_none",
        "since": int(now - 3600),
    }
    deadline = time.monotonic() + 5  # telemetry is stored within a second of its 202
    raw = f"/v1/operator/devices/{ids['device']}/telemetry?from={ids['since']}"
    while not (await _get(http, raw, headers["operator"]))["data"]["items"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the seeded telemetry was not stored within 5 s")
        await asyncio.sleep(0.1)
    return headers, ids


def run(
    server_kind: str, settings: LoadSettings, only: str | None, profile: Path | None = None
) -> list[dict[str, Any]]:
    wrk = ensure_wrk()
    made: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    with TemporaryDirectory(prefix="voltgate-bench-protected-") as tmp:
        state = Path(tmp) / "fleet.json"
        with start_voltgate(
            sys.executable,
            ROOT,
            Path(tmp),
            name=f"voltgate ({server_kind})",
            scale=server_kind == "postgres",
            prepare=seeding(made, "bench.protected", str(state)),
            env_extra={"VOLTGATE_API_RATE_LIMIT": "1000000000", "VOLTGATE_ISSUER": ISSUER},
        ) as server:
            headers, ids = asyncio.run(world(live_http(server.base_url), made, state))
            chosen = [r for r in ROUTES if r.name in FLOORS or not only or only in r.name]
            floors = [r for r in chosen if r.name in FLOORS]
            for route in [*floors, *[r for r in chosen if r.name not in FLOORS], *floors]:
                path = route.path.format(**ids)
                hdrs = dict(headers[route.principal])
                if route.body is not None:
                    hdrs["Content-Type"] = "application/json"
                request = HttpRequest(route.method, path, headers=hdrs, body=route.body)
                try:
                    http_request(
                        route.method,
                        server.base_url + path,
                        headers=hdrs,
                        body=None if route.body is None else route.body.encode(),
                    )
                except urllib.error.HTTPError as exc:
                    detail = exc.read()[:300]
                    raise RuntimeError(f"{route.name} {path}: {exc.code} {detail!r}") from None
                wait_quiet(25.0, 20.0)
                run_wrk(wrk, server.base_url, request, settings, settings.warmup)
                out = None
                if profile is not None and route.name not in FLOORS:
                    out = profile / f"{server_kind}-{route.name.replace(' ', '-')}.txt"
                with pyspy.recording(server.worker_pids(), out, settings.duration):
                    result = run_wrk(wrk, server.base_url, request, settings, settings.duration)
                rows.append(
                    {
                        "server": server_kind,
                        "route": route.name,
                        "method": route.method,
                        "path": route.path,
                        "rps": result.rps,
                        "p99_ms": result.p99_ms,
                        "errors": result.failures,
                    }
                )
    return _ratios(rows)


def _ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def mean(name: str) -> float:
        values = [r["rps"] for r in rows if r["route"] == name]
        return sum(values) / len(values) if values else 0.0

    floor, me = mean("healthz"), mean("me")
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        merged = out.setdefault(row["route"], {**row, "runs": []})
        merged["runs"].append(row["rps"])
    for row in out.values():
        row["rps"] = sum(row["runs"]) / len(row["runs"])
        row["floor_ratio"] = row["rps"] / floor if floor else 0.0
        row["me_ratio"] = row["rps"] / me if me else 0.0
        bar = WRITE_BAR if row["method"] != "GET" else GET_BAR[row["server"]]
        p99_ok = row["server"] != "sqlite" or row["method"] != "GET" or row["p99_ms"] <= P99_BAR_MS
        row["meets"] = row["route"] in FLOORS or (row["floor_ratio"] >= bar and p99_ok)
    return list(out.values())


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| server | route | req/s | p99 ms | x /healthz | x /v1/me | bar | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bar = "" if r["route"] in FLOORS else ("ok" if r["meets"] else "**below**")
        lines.append(
            f"| {r['server']} | {r['route']} `{r['method']} {r['path']}` | {r['rps']:,.0f} "
            f"| {r['p99_ms']:.2f} | {r['floor_ratio']:.2f} | {r['me_ratio']:.2f} | {bar} "
            f"| {r['errors']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["seed"]:
        print(json.dumps(asyncio.run(seed(args[1]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.protected", description=__doc__)
    parser.add_argument("--server", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--only", help="routes whose name contains this (plus the floors)")
    parser.add_argument("--out", type=Path, help="write the results (markdown) here")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record py-spy (raw) of the worker during each route's run into DIR; "
        "summarise with `python -m bench.pyspy FILE`",
    )
    opts = parser.parse_args(args)
    settings = LoadSettings(
        duration=opts.duration, warmup=opts.warmup, connections=opts.connections
    )
    kinds = ["sqlite", "postgres"] if opts.server == "both" else [opts.server]
    rows = [row for kind in kinds for row in run(kind, settings, opts.only, opts.profile)]
    text = table(rows)
    print(text)
    if opts.out is not None:
        machine = "\n".join(f"- {k}: {v}" for k, v in describe(ROOT, ensure_wrk(), settings))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        opts.out.write_text(f"# Protected resource routes, {stamp}\n\n{machine}\n\n{text}\n")
    failed = any(r["errors"] for r in rows) or not all(r["meets"] for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
