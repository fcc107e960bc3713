"""`python -m bench.protected`: what the bearer guard costs on protected reads.

Each read of `bench.twins.READS` is loaded twice on the same server: at its own path with a
bearer token (the guard verifies it: cached signature check, expiry, revocation, client state,
kind and scope) and at its `/_unguarded` twin (the same handler and dependencies, the guard
replaced by a fixed principal). The ratio guarded/unguarded is the share of throughput left
after the guard. The seed (`python -m bench.protected seed`, run on the server's database
before it starts) gives the operator 20 chargers and a user a home energy site and a grant.

    .venv/bin/python -m bench.protected [--server sqlite|postgres] [--duration 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.loadgen import HttpRequest, LoadSettings, ensure_wrk, run_wrk
from bench.machine import wait_quiet
from bench.servers import ROOT, Credentials, RunningServer, http_request, start_voltgate

REDIRECT_URI = "https://bench.example/callback"
USER_SCOPES = ("vehicle_device_data", "energy_device_data", "energy_cmds")
CHARGERS = 20


async def seed(operator_id: str) -> dict[str, Any]:
    """Chargers for the operator; a user, their vehicles and energy site, and a code for the
    bench's app."""
    from voltgate.cli.common import started_runtime
    from voltgate.devices.schemas import DeviceRegistration, EnrollmentCreate
    from voltgate.energy.seed import seed_energy_site
    from voltgate.vehicles.seed import seed_vehicles

    async with started_runtime() as rt:
        _, enrollment = await rt.fleet.enrollments.create(
            operator_id, EnrollmentCreate(uses=CHARGERS)
        )
        tag = secrets.token_hex(3)
        for n in range(CHARGERS):
            spec = DeviceRegistration.model_validate(
                {
                    "sn": f"BENCH-{tag}-{n:03d}",
                    "model": "bench",
                    "manufacturer": "bench",
                    "firmware_version": "1",
                    "connectors": [{"type": "CCS2", "max_power_kw": 150}] * 2,
                }
            )
            await rt.fleet.devices.register(f"Bearer {enrollment}", spec)
        app = await rt.identity.admin.create(
            name="bench energy app",
            kind="third_party",
            scopes=" ".join(USER_SCOPES),
            redirect_uris=[REDIRECT_URI],
        )
        user = await rt.identity.users.create(
            f"bench-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        )
        site = await seed_energy_site(rt.owner.energy, rt.coordinator, user.id)
        # The first seeded vehicle is charging, so awake: vehicle_data answers 200, not 408.
        vehicle = (await seed_vehicles(rt.owner.vehicles, rt.identity.users, user.id))[0]
        code = await rt.identity.delegation.issue_code(
            client=app.client,
            user_id=user.id,
            redirect_uri=REDIRECT_URI,
            scopes=USER_SCOPES,
            auth_time=rt.clock.now(),
        )
    return {
        "app_id": app.client.id,
        "app_secret": app.secret,
        "user_id": user.id,
        "code": code,
        # The ids the READS' paths name.
        "ids": {"energy_site": site.id, "vehicle": vehicle.id},
    }


class _World:
    """What the seed made, handed from `prepare` (before the server) to the run (after)."""

    made: dict[str, Any]


def _prepare(world: _World) -> Any:
    def prepare(env: Mapping[str, str], operator_id: str) -> Mapping[str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.protected", "seed", operator_id],
            env=dict(env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"bench.protected seed failed:\n{proc.stderr}")
        world.made = json.loads(proc.stdout)
        return {
            "BENCH_OPERATOR_ID": operator_id,
            "BENCH_APP_ID": world.made["app_id"],
            "BENCH_USER_ID": world.made["user_id"],
        }

    return prepare


def _user_token(server: RunningServer, made: dict[str, Any]) -> str:
    form = {"grant_type": "authorization_code", "code": made["code"], "redirect_uri": REDIRECT_URI}
    app = Credentials(made["app_id"], made["app_secret"])
    body = http_request(
        "POST",
        server.base_url + "/oauth2/v3/token",
        headers={"Authorization": app.basic(), "Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode(form).encode(),
    )
    return str(json.loads(body)["access_token"])


def run(server_kind: str, settings: LoadSettings) -> list[dict[str, Any]]:
    from bench.twins import READS, TWIN

    wrk = ensure_wrk()
    world = _World()
    rows: list[dict[str, Any]] = []
    with (
        TemporaryDirectory(prefix="voltgate-bench-protected-") as tmp,
        start_voltgate(
            sys.executable,
            ROOT,
            Path(tmp),
            name=f"voltgate ({server_kind})",
            scale=server_kind == "postgres",
            serve=("bench.twins",),
            prepare=_prepare(world),
            env_extra={"VOLTGATE_API_RATE_LIMIT": "1000000000"},
        ) as server,
    ):
        tokens = {"operator": server.bearer_token(), "user": _user_token(server, world.made)}
        for read in READS:
            path = read.path.format(**world.made["ids"])
            guarded = HttpRequest(
                "GET", path, headers={"Authorization": f"Bearer {tokens[read.principal]}"}
            )
            bare = HttpRequest("GET", TWIN + path)
            for request in (guarded, bare):  # both answer 200 before either is loaded
                http_request("GET", server.base_url + request.path, headers=request.headers)
            results = []
            for request in (guarded, bare):
                wait_quiet(25.0, 20.0)
                run_wrk(wrk, server.base_url, request, settings, settings.warmup)
                results.append(run_wrk(wrk, server.base_url, request, settings, settings.duration))
            g, u = results
            rows.append(
                {
                    "read": read.name,
                    "path": path,
                    "guarded_rps": g.rps,
                    "guarded_p99_ms": g.p99_ms,
                    "unguarded_rps": u.rps,
                    "unguarded_p99_ms": u.p99_ms,
                    "ratio": g.rps / u.rps if u.rps else 0.0,
                    "errors": g.failures + u.failures,
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| read | guarded req/s (p99 ms) | unguarded req/s (p99 ms) | guarded/unguarded | errors |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['read']} `{r['path']}` | {r['guarded_rps']:,.0f} ({r['guarded_p99_ms']:.2f}) "
            f"| {r['unguarded_rps']:,.0f} ({r['unguarded_p99_ms']:.2f}) | {r['ratio']:.2f} "
            f"| {r['errors']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["seed"]:
        print(json.dumps(asyncio.run(seed(args[1]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.protected", description=__doc__)
    parser.add_argument("--server", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=64)
    opts = parser.parse_args(args)
    settings = LoadSettings(
        duration=opts.duration, warmup=opts.warmup, connections=opts.connections
    )
    rows = run(opts.server, settings)
    print(table(rows))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
