"""Acknowledged means stored: `voltgate serve` is killed with SIGKILL (its whole process
group, the worker included) at a random moment while a charger posts telemetry and a client
takes tokens, ten times on each backend. After each kill, every reading answered 202 is in
the database exactly once, and every token answered 200 has its `token_issued` audit row.

The moments come from a seeded random generator (the seed is in the failure message), so a
failing trial can be replayed; nothing here waits on the machine's speed: the kill comes after
the load has run for its drawn time, whatever was answered by then is what is checked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from tests.conftest import Backend
from tests.fixtures.live import free_port, server_env
from voltgate.db.statements import postgres_dsn

TRIALS = 10
SEED = 20261206
PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]
POSTERS = 4  # concurrent telemetry senders
TAKERS = 4  # concurrent token takers


@contextlib.contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`voltgate serve` in a process group of its own (so one SIGKILL takes the worker too)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "voltgate", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"voltgate did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield base, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "voltgate", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = orjson.loads(done.stdout)
    return found


def _setup(base: str, env: dict[str, str]) -> dict[str, str]:
    """An operator, a client that takes tokens, and a registered charger with its token."""
    op = _cli(
        env, "clients", "create", "--name", "ops", "--kind", "operator", "--scopes", "read write"
    )
    taker = _cli(
        env, "clients", "create", "--name", "taker", "--kind", "operator", "--scopes", "read"
    )
    with httpx.Client(base_url=base, timeout=30) as http:
        answer = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(op["client_id"], op["client_secret"]),
        )
        ops = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        enrollment = http.post("/v1/operator/enrollments", json={}, headers=ops).json()
        body: dict[str, Any] = {"sn": "SN-CRASH", "model": "Tellus 22", "firmware_version": "1"}
        body |= {"manufacturer": "Tellus", "connectors": PORTS}
        token = enrollment["data"]["enrollment_token"]
        device = http.post(
            "/v1/device/register", json=body, headers={"Authorization": f"Bearer {token}"}
        ).json()["data"]
        device_token = http.post(
            "/v1/device/token",
            json={
                "device_id": device["device_id"],
                "device_secret": device["device_secret"],
                "grant_type": "client_credentials",
            },
        ).json()["data"]["access_token"]
    return {
        "device_id": device["device_id"],
        "device_token": device_token,
        "client_id": taker["client_id"],
        "client_secret": taker["client_secret"],
    }


async def _load(
    base: str, who: dict[str, str], first: int, after: float, pid: int, on: str
) -> tuple[set[int], set[str], int]:
    """Telemetry and token requests until the server is killed: `after` seconds into the
    load, the next acknowledgement of kind `on` ("reading" or "token") is followed at once by
    SIGKILL, so what the server does after answering (a batch still to be written, an audit
    row still queued) would be cut off. Returns the reading ids answered 202, the jtis of the
    tokens answered 200, and the next unused reading id. Each reading's id is its
    `energy_kwh` (unique across the test), so a stored copy can be counted."""
    acked: set[int] = set()
    jtis: set[str] = set()
    counter = iter(range(first, first + 1_000_000))
    started, armed, killed = asyncio.Event(), asyncio.Event(), asyncio.Event()
    device = {"Authorization": f"Bearer {who['device_token']}"}
    refused: list[str] = []

    def kill() -> None:
        if not killed.is_set():
            os.killpg(pid, signal.SIGKILL)  # other requests are in flight
            killed.set()

    def acknowledged(kind: str) -> None:
        if acked and jtis:
            started.set()
        if armed.is_set() and kind == on:
            kill()

    async def killer() -> None:
        try:
            # Bounded: a server that acknowledges nothing fails the test, it does not hang it.
            await asyncio.wait_for(started.wait(), timeout=60)
        except TimeoutError:
            kill()
            raise AssertionError(f"nothing acknowledged; answers: {refused[-5:]}") from None
        await asyncio.sleep(after)  # the drawn moment, under load
        armed.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(killed.wait(), timeout=60)
        kill()

    async def post(http: httpx.AsyncClient) -> None:
        while not killed.is_set():
            ids = [next(counter), next(counter)]
            readings = [
                {"connector": n + 1, "state": "charging", "power_kw": 7.0, "energy_kwh": i}
                for n, i in enumerate(ids)
            ]
            with contextlib.suppress(httpx.TransportError):
                answer = await http.post(
                    "/v1/device/telemetry", json={"connectors": readings}, headers=device
                )
                if answer.status_code == 202:
                    acked.update(ids)
                    acknowledged("reading")
                else:
                    refused.append(f"{answer.status_code} {answer.text[:200]}")

    async def take(http: httpx.AsyncClient) -> None:
        while not killed.is_set():
            with contextlib.suppress(httpx.TransportError):
                answer = await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(who["client_id"], who["client_secret"]),
                )
                if answer.status_code == 200:
                    jtis.add(_jti(answer.json()["access_token"]))
                    acknowledged("token")
                else:
                    refused.append(f"{answer.status_code} {answer.text[:200]}")

    limits = httpx.Limits(max_connections=POSTERS + TAKERS)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await asyncio.gather(
            killer(), *(post(http) for _ in range(POSTERS)), *(take(http) for _ in range(TAKERS))
        )
    return acked, jtis, next(counter)


def _jti(token: str) -> str:
    payload = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["jti"])


async def _stored(backend: Backend, device_id: str) -> tuple[list[int], set[str]]:
    """Every stored reading id of the charger (with repeats) and every audited token's jti."""
    readings = "SELECT energy_kwh FROM telemetry WHERE device_id = {}"
    audit = "SELECT detail FROM audit_events WHERE event = 'token_issued'"
    if backend.name == "sqlite":
        path = Path(backend.settings["data_dir"]) / "voltgate.db"
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute(readings.format("?"), (device_id,)).fetchall()
            details = [row[0] for row in db.execute(audit)]
    else:
        conn = await asyncpg.connect(postgres_dsn(backend.settings["database_url"]))
        try:
            rows = await conn.fetch(readings.format("$1"), device_id)
            details = [row[0] for row in await conn.fetch(audit)]
        finally:
            await conn.close()
    ids = [round(row[0]) for row in rows]
    return ids, {str(orjson.loads(detail).get("jti")) for detail in details}


async def test_nothing_acknowledged_is_lost_when_the_server_is_killed(
    backend: Backend, tmp_path: Path
) -> None:
    lifted = {"api_rate_limit": "1000000000", "token_rate_per_client": "1000000000"}
    lifted |= {"token_rate_per_address": "1000000000", "issuer": "http://voltgate.test"}
    settings = {k: v for k, v in backend.settings.items() if k != "data_dir"}
    env = server_env(Path(backend.settings["data_dir"]), **settings, **lifted)
    draw = random.Random(SEED)
    who: dict[str, str] = {}
    next_id = 1
    for trial in range(TRIALS):
        seconds = draw.uniform(0.0, 1.0)
        with _server(env, tmp_path / "server.log") as (base, process):
            if not who:
                who = _setup(base, env)

            on = ("reading", "token")[trial % 2]
            acked, jtis, next_id = await _load(base, who, next_id, seconds, process.pid, on)
            process.wait(timeout=30)
        stored, audited = await _stored(backend, who["device_id"])
        where = f"trial {trial} (seed {SEED}, killed {seconds:.2f} s in, on a {on})"
        print(f"{where}: {len(acked)} readings and {len(jtis)} tokens acknowledged")
        missing = acked - set(stored)
        assert not missing, f"{where}: {len(missing)} acknowledged readings lost"
        assert len(stored) == len(set(stored)), f"{where}: a reading is stored twice"
        unaudited = jtis - audited
        assert not unaudited, f"{where}: {len(unaudited)} issued tokens have no audit row"
