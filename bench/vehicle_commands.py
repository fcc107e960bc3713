"""`python -m bench.vehicle_commands`: a signed vehicle command through `voltgate proxy` against
the same command unsigned, on the same server, in one run.

The server is `voltgate serve` (one granian worker, the embedded default unless `--scale`) with
the sandbox world; the app's key is hosted by voltgate and paired with the user's Model 3
(`command_signing: allowed`, so it takes both kinds). Three rows, each with wrk on one
connection (latency: one command at a time, as the proxy sends them per vehicle):

- unsigned: `POST /api/1/vehicles/{id}/command/honk_horn` straight to the server;
- signed through the proxy: `POST /api/1/vehicles/{vin}/command/honk_horn` to the proxy, its
  session already made (what every command after a vehicle's first costs);
- the handshake alone: `signed_command` with a `session_info_request` (what a vehicle's first
  command, or one after its restart, costs on top);
- signed by the app itself (the SDK), `signed_command` straight to the server: the server's
  part of a signed command, without the proxy's hop (each request a new counter; wrk cycles
  the bodies, more than a run sends).

    .venv/bin/python -m bench.vehicle_commands [--duration 8] [--warmup 2] [--scale] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

from bench.loadgen import HttpRequest, LoadResult, LoadSettings, ensure_wrk, run_wrk
from bench.machine import describe, wait_quiet
from bench.servers import (
    ROOT,
    free_port,
    http_request,
    seeding,
    spawn,
    start_voltgate,
    stop_process,
)

ISSUER = "http://127.0.0.1"
BAR = 2.0  # the issue's: signed through the proxy at most twice the unsigned latency
COMMAND = "honk_horn"
SIGNED_BODIES = 40_000  # more than one connection sends in a measured run


async def seed(key_file: str) -> dict[str, Any]:
    """The sandbox world, the app's key hosted by voltgate and paired with the user's Model 3,
    and a code for the user's app."""
    from voltgate.cli.common import started_runtime
    from voltgate.sandbox.world import APP_SCOPES, provision_sandbox
    from voltgate.sdk.vehicle_command import generate_private_key, private_key_pem, public_bytes

    key = generate_private_key()
    Path(key_file).write_bytes(private_key_pem(key))
    point = public_bytes(key)
    async with started_runtime() as rt:
        with tempfile.TemporaryDirectory() as state:
            creds = await provision_sandbox(rt, ISSUER, fleet=0, fleet_state=Path(state) / "s")
        app, user = creds["third_party_app"], creds["users"][0]
        car = next(v for v in user["vehicles"] if v["command_signing"] == "allowed")
        await rt.identity.partners.host(app["client_id"], point)
        await rt.owner.keys.pair(user["user_id"], app["client_id"], point, [car["vin"]], "owner")
        client = await rt.identity.clients.get(app["client_id"])
        assert client is not None
        code = await rt.identity.delegation.issue_code(
            client=client,
            user_id=user["user_id"],
            redirect_uri=app["redirect_uri"],
            scopes=tuple(APP_SCOPES.split()),
            auth_time=rt.clock.now(),
        )
    return {"app": app, "car": car, "code": code}


def code_grant(made: dict[str, Any]) -> dict[str, str]:
    """The token request's form that redeems the seeded sign-in's code for the user's token."""
    app = made["app"]
    return {
        "grant_type": "authorization_code",
        "code": made["code"],
        "redirect_uri": app["redirect_uri"],
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }


def _user_token(base_url: str, made: dict[str, Any]) -> str:
    form = code_grant(made)
    raw = http_request(
        "POST",
        base_url + "/oauth2/v3/token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode(form).encode(),
    )
    return str(json.loads(raw)["access_token"])


def _handshake_body(vin: str, key_file: Path) -> str:
    from voltgate.sdk.vehicle_command import Domain, Signer, load_private_key

    session = Signer(load_private_key(key_file.read_bytes())).session(vin, Domain.INFOTAINMENT)
    message = base64.b64encode(session.session_info_request()).decode()
    return json.dumps({"routable_message": message})


def _check(base: str, request: HttpRequest) -> None:
    """One request of the row answers 200 (wrk only counts failures)."""
    body = None if request.body is None else request.body.encode()
    try:
        http_request(request.method, base + request.path, headers=request.headers, body=body)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{request.path}: {exc.code} {exc.read()[:300]!r}") from None


def _signed_bodies(base_url: str, vin: str, key_file: Path, token: str) -> Any:
    """A maker of signed_command bodies of one session (made here first), each with the next
    counter and valid for five minutes: what an app signing with the SDK sends."""
    from voltgate.sdk.vehicle_command import Domain, Signer, load_private_key

    session = Signer(load_private_key(key_file.read_bytes())).session(vin, Domain.INFOTAINMENT)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    asked = base64.b64encode(session.session_info_request()).decode()
    raw = http_request(
        "POST",
        f"{base_url}/api/1/vehicles/{vin}/signed_command",
        auth,
        json.dumps({"routable_message": asked}).encode(),
    )
    session.read(base64.b64decode(json.loads(raw)["response"]))

    def make(count: int) -> list[str]:
        messages = (session.command(COMMAND, expires_in=290.0) for _ in range(count))
        return [json.dumps({"routable_message": base64.b64encode(m).decode()}) for m in messages]

    return make


def _row(name: str, result: LoadResult) -> dict[str, Any]:
    return {
        "row": name,
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.failures,
        "requests": result.requests,
    }


def run(duration: float, warmup: float, scale: bool) -> tuple[list[dict[str, Any]], list[str]]:
    wrk = ensure_wrk()
    settings = LoadSettings(duration=duration, warmup=warmup, connections=1)
    notes = [f"{k}: {v}" for k, v in describe(ROOT, wrk, settings)]
    made: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="voltgate-bench-vc-") as tmp:
        work, key_file = Path(tmp), Path(tmp) / "app-key.pem"
        name = "voltgate (postgres)" if scale else "voltgate (sqlite)"
        with start_voltgate(
            sys.executable,
            ROOT,
            work,
            name=name,
            scale=scale,
            prepare=seeding(made, "bench.vehicle_commands", str(key_file)),
            # One app sends every command: lift the per-app limit.
            env_extra={"VOLTGATE_API_RATE_LIMIT": "1000000000", "VOLTGATE_ISSUER": ISSUER},
        ) as server:
            token = _user_token(server.base_url, made)
            auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            car = made["car"]
            port = free_port()
            proxy_url = f"http://127.0.0.1:{port}"
            proxy = spawn(
                [
                    *(sys.executable, "-m", "voltgate", "proxy", "--key", str(key_file)),
                    *("--upstream", server.base_url, "--listen", f"127.0.0.1:{port}"),
                ],
                {k: v for k, v in os.environ.items() if not k.startswith("VOLTGATE_")},
                work / "proxy.log",
                ROOT,
            )
            try:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        http_request("GET", proxy_url + "/healthz")
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise RuntimeError("voltgate proxy did not start") from None
                        time.sleep(0.1)
                path = f"/api/1/vehicles/{car['vin']}/command/{COMMAND}"
                first = time.perf_counter()
                http_request("POST", proxy_url + path, headers=auth, body=b"{}")
                notes.append(
                    f"first command through the proxy (handshake included): "
                    f"{(time.perf_counter() - first) * 1000:.1f} ms"
                )
                rows = []
                cases = [
                    (
                        "unsigned, straight to the server",
                        server.base_url,
                        HttpRequest(
                            "POST", f"/api/1/vehicles/{car['id']}/command/{COMMAND}", auth, "{}"
                        ),
                    ),
                    (
                        "signed through the proxy (session kept)",
                        proxy_url,
                        HttpRequest("POST", path, auth, "{}"),
                    ),
                    (
                        "handshake alone (signed_command, session_info_request)",
                        server.base_url,
                        HttpRequest(
                            "POST",
                            f"/api/1/vehicles/{car['vin']}/signed_command",
                            auth,
                            _handshake_body(car["vin"], key_file),
                        ),
                    ),
                ]
                for label, base, request in cases:
                    _check(base, request)
                    wait_quiet(10.0, 30.0)
                    run_wrk(wrk, base, request, settings, warmup)
                    rows.append(_row(label, run_wrk(wrk, base, request, settings, duration)))
                # Signed by the app itself: each run its own messages (a counter is used once).
                make = _signed_bodies(server.base_url, car["vin"], key_file, token)
                signed_path = f"/api/1/vehicles/{car['vin']}/signed_command"
                wait_quiet(10.0, 30.0)
                warm = HttpRequest("POST", signed_path, auth, bodies=make(SIGNED_BODIES // 4))
                run_wrk(wrk, server.base_url, warm, settings, warmup)
                measured = HttpRequest("POST", signed_path, auth, bodies=make(SIGNED_BODIES))
                result = run_wrk(wrk, server.base_url, measured, settings, duration)
                rows.append(_row("signed by the app (SDK), straight to the server", result))
            finally:
                stop_process(proxy)
    return rows, notes


def table(rows: list[dict[str, Any]]) -> str:
    unsigned = rows[0]
    lines = [
        "| row | req/s (1 connection) | p50 ms | p99 ms | p50 / unsigned | p99 / unsigned"
        " | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['row']} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{row['p50_ms'] / unsigned['p50_ms']:.2f} | {row['p99_ms'] / unsigned['p99_ms']:.2f} "
            f"| {row['errors']} |"
        )
    signed = next(r for r in rows if "proxy" in r["row"])
    verdict = "met" if signed["p50_ms"] <= BAR * unsigned["p50_ms"] else "NOT met"
    lines.append("")
    lines.append(
        f"Signed through the proxy / unsigned, p50: {signed['p50_ms'] / unsigned['p50_ms']:.2f} "
        f"(bar <= {BAR:g}: {verdict})."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["seed"]:
        print(json.dumps(asyncio.run(seed(args[1]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.vehicle_commands")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--scale", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--out", type=Path)
    opts = parser.parse_args(args)
    rows, notes = run(opts.duration, opts.warmup, opts.scale)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [f"# Signed vehicle commands, {stamp}", "", *[f"- {n}" for n in notes], "", table(rows), ""]
    )
    print(text)
    if opts.out:
        opts.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
