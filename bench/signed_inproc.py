"""`python -m bench.signed_inproc`: the server's CPU for one signed command against the same
command unsigned, both called in process through the whole ASGI app (one request at a time),
alternated in rounds so drift on a shared box falls on both alike. CPU is process time, so other
processes barely move it. The world is `bench.vehicle_commands`' (the app's key paired with the
user's Model 3, `command_signing: allowed`); the signed messages are the SDK's, one session,
each with the next counter, made before the clock starts.

    .venv/bin/python -m bench.signed_inproc [--requests 2000] [--rounds 5]
        [--profile signed|unsigned [--sort tottime]] [--decision]

`--decision`: only the signed decision as `VehiclesService.signed_command` makes it (the message
inspected, the verifier restored from the stored text, the message verified, the state written
back as text), one vehicle and one session, no app, no database: CPU µs per step.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.inproc import _direct
from bench.vehicle_commands import COMMAND, ISSUER, code_grant, seed
from voltgate.app import create_app
from voltgate.config import Settings
from voltgate.observability import access_log


async def _token(client: httpx.AsyncClient, made: dict[str, Any]) -> str:
    answer = await client.post("/oauth2/v3/token", data=code_grant(made))
    answer.raise_for_status()
    return str(answer.json()["access_token"])


async def _timed(calls: list[Callable[[], Awaitable[None]]]) -> float:
    """CPU µs per call."""
    cpu = time.process_time()
    for once in calls:
        await once()
    return (time.process_time() - cpu) / len(calls) * 1e6


async def _run(opts: argparse.Namespace, data: Path) -> dict[str, list[float]]:
    from voltgate.sdk.vehicle_command import Domain, Signer, load_private_key

    values: dict[str, Any] = {
        "data_dir": str(data),
        "issuer": ISSUER,
        "api_rate_limit": 1_000_000_000,
        "log_level": "warning",
    }
    os.environ.update({f"VOLTGATE_{k.upper()}": str(v) for k, v in values.items()})
    key_file = data / "app-key.pem"
    made = await seed(str(key_file))
    app = create_app(Settings(**values))
    access_log.enabled = False
    car = made["car"]
    times: dict[str, list[float]] = {"unsigned": [], "signed": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            token = await _token(client, made)
            auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            signer = Signer(load_private_key(key_file.read_bytes()))
            session = signer.session(car["vin"], Domain.INFOTAINMENT)
            signed_path = f"/api/1/vehicles/{car['vin']}/signed_command"
            asked = base64.b64encode(session.session_info_request()).decode()
            answer = await client.post(signed_path, headers=auth, json={"routable_message": asked})
            session.read(base64.b64decode(answer.json()["response"]))
        unsigned_path = f"/api/1/vehicles/{car['id']}/command/{COMMAND}"

        def unsigned(count: int) -> list[Callable[[], Awaitable[None]]]:
            once = _direct(app, "POST", unsigned_path, auth, b"{}", "unsigned")
            return [once] * count

        def signed(count: int) -> list[Callable[[], Awaitable[None]]]:
            calls = []
            for _ in range(count):
                message = base64.b64encode(session.command(COMMAND, expires_in=290.0)).decode()
                body = json.dumps({"routable_message": message}).encode()
                calls.append(_direct(app, "POST", signed_path, auth, body, "signed"))
            return calls

        makers = {"unsigned": unsigned, "signed": signed}
        for make in makers.values():  # warm up both
            await _timed(make(200))
        if opts.profile:
            calls = makers[opts.profile](opts.requests)
            profiler = cProfile.Profile()
            profiler.enable()
            await _timed(calls)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(opts.sort).print_stats(45)
            print(out.getvalue())
            return times
        for _ in range(opts.rounds):
            for name, make in makers.items():
                times[name].append(await _timed(make(opts.requests)))
    return times


def _decision(requests: int, rounds: int) -> dict[str, list[float]]:
    from types import SimpleNamespace

    from voltgate.sdk.vehicle_command import Domain, Signer, generate_private_key
    from voltgate.sdk.vehicle_command.keys import public_bytes
    from voltgate.vehiclecmd import Accepted
    from voltgate.vehicles import signed

    vin = "5YJ3E7EB0KF000001"
    client = generate_private_key()
    paired = frozenset({public_bytes(client)})
    keys, states = signed.VehicleKeys(b"k" * 32), signed.KnownStates()
    car = SimpleNamespace(vin=vin, command_protocol="")
    now = 1_900_000_000.0

    def decide(message: bytes) -> Any:
        carried = signed.inspect(message)
        verifier = signed.verifier(car, now, keys, paired, states)  # type: ignore[arg-type]
        exchange = verifier.receive_parsed(carried.message)
        car.command_protocol = signed.stored(verifier, states)
        return exchange

    session = Signer(client).session(vin, Domain.INFOTAINMENT)
    session.read(decide(session.session_info_request()).response)
    steps: dict[str, list[float]] = {"decision": []}
    for _ in range(rounds):
        messages = [session.command(COMMAND, expires_in=290.0) for _ in range(requests)]
        cpu = time.process_time()
        for message in messages:
            if not isinstance(decide(message), Accepted):
                raise RuntimeError("a signed command was refused")
        steps["decision"].append((time.process_time() - cpu) / requests * 1e6)
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signed_inproc", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=["signed", "unsigned"])
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--decision", action="store_true", help="the signed decision alone")
    opts = parser.parse_args(argv)
    if opts.decision:
        steps = _decision(opts.requests, opts.rounds)["decision"]
        rounded = ", ".join(f"{v:,.1f}" for v in steps)
        print(f"signed decision CPU µs/command: median {statistics.median(steps):,.1f} ({rounded})")
        return 0
    with tempfile.TemporaryDirectory(prefix="voltgate-signed-inproc-") as tmp:
        times = asyncio.run(_run(opts, Path(tmp)))
    if opts.profile:
        return 0
    print("| round | unsigned CPU µs | signed CPU µs | signed / unsigned |")
    print("|---|---|---|---|")
    for i, (u, s) in enumerate(zip(times["unsigned"], times["signed"], strict=True), 1):
        print(f"| {i} | {u:,.0f} | {s:,.0f} | {s / u:.2f} |")
    u, s = statistics.median(times["unsigned"]), statistics.median(times["signed"])
    print(f"| median | {u:,.0f} | {s:,.0f} | {s / u:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
