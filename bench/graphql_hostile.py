"""`python -m bench.graphql_hostile [--seconds 8] [--clients 8] [--attackers 2]`: hostile
GraphQL documents beside ordinary requests, on one `voltgate serve` (embedded default, one
worker) on 127.0.0.1.

A contact's ordinary query (`me` and a charge-point search) is sent by `--clients` loops for
`--seconds`, alone, then again while `--attackers` loops send hostile requests in turn: a
document nested 50 deep, 10,000 aliases (130 KB), a 1 MB document, a batch of 1,000 operations,
a fragment bomb (2^20 fields once expanded). Printed: each hostile kind's status and latency,
and the ordinary query's p50/p99 alone and beside them. Run on a quiet machine."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ROOT, start_voltgate

ORDINARY = (
    "{ me { id } cpsPaged(filter: {position: {latitude: 48.8566, longitude: 2.3522}}, "
    "pagination: {limit: 20}) { pagination { totalCount } data { id name distance } } }"
)


def _bomb() -> str:
    parts = ["fragment F0 on ContactProfile { id name }"]
    parts += [
        f"fragment F{n} on ContactProfile {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 21)
    ]
    return "{ me { ...F20 } } " + " ".join(parts)


HOSTILE: dict[str, Any] = {
    "depth 50": {"query": "{ " + "me { " * 50 + "id" + " }" * 50 + " }"},
    "10,000 aliases": {"query": "{ " + "a:__typename " * 10_000 + "}"},
    "1 MB document": {"query": "{ " + "__typename " * 100_000 + "}"},
    "batch of 1,000": [{"query": "{ __typename }"}] * 1_000,
    "fragment bomb": {"query": _bomb()},
}


CLOSED = 0  # the connection closed before the answer was read (shown as "closed")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _session(http: httpx.AsyncClient, psk: str) -> str:
    auth = {"Authorization": f"Bearer {psk}"}
    profile = {"name": "Bench", "email": "bench@example.com", "password": "bench password"}
    await http.post(
        "/graphql",
        headers=auth,
        json={
            "query": "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) "
            "{ profile { id } } }",
            "variables": {"p": profile},
        },
    )
    answer = await http.post(
        "/graphql",
        headers=auth,
        json={
            "query": 'mutation { initSession(username: "bench@example.com", '
            'password: "bench password") { sessionToken } }'
        },
    )
    token: str = answer.json()["data"]["initSession"]["sessionToken"]
    return token


async def _ordinary(http: httpx.AsyncClient, token: str, until: float, out: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < until:
        started = time.perf_counter()
        answer = await http.post("/graphql", headers=headers, json={"query": ORDINARY})
        out.append(time.perf_counter() - started)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


async def _hostile(
    http: httpx.AsyncClient, token: str, until: float, out: dict[str, list[tuple[int, float]]]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = {name: json.dumps(body).encode() for name, body in HOSTILE.items()}
    while time.perf_counter() < until:
        for name, body in bodies.items():
            started = time.perf_counter()
            try:
                answer = await http.post("/graphql", headers=headers, content=body)
                status = answer.status_code
            except httpx.TransportError:
                # A body over the cap: the server answers 413 and closes the connection without
                # reading the rest, so a client still sending may see the close first.
                status = CLOSED
            out[name].append((status, time.perf_counter() - started))


async def _measure(base: str, psk: str, seconds: float, clients: int, attackers: int) -> str:
    limits = httpx.Limits(max_connections=clients + attackers + 2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        token = await _session(http, psk)
        alone: list[float] = []
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_ordinary(http, token, until, alone) for _ in range(clients)))
        beside: list[float] = []
        hostile: dict[str, list[tuple[int, float]]] = {name: [] for name in HOSTILE}
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(_ordinary(http, token, until, beside) for _ in range(clients)),
            *(_hostile(http, token, until, hostile) for _ in range(attackers)),
        )
    lines = [
        f"Ordinary query, {clients} loops, {seconds:g} s each phase:",
        "",
        "| | requests | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
        f"| alone | {len(alone)} | {_pct(alone, 0.5):.1f} | {_pct(alone, 0.99):.1f} |",
        f"| beside {attackers} hostile loops | {len(beside)} | {_pct(beside, 0.5):.1f} | "
        f"{_pct(beside, 0.99):.1f} |",
        "",
        "| hostile request | status | sent | p50 ms | max ms |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, results in hostile.items():
        statuses = sorted({str(s) if s != CLOSED else "closed" for s, _ in results})
        times = [t for _, t in results]
        lines.append(
            f"| {name} | {', '.join(statuses)} | {len(results)} | "
            f"{statistics.median(times) * 1000:.1f} | {max(times) * 1000:.1f} |"
        )
    return "\n".join(lines)


def _beenergised_app(env: Mapping[str, str], _operator: str) -> dict[str, str]:
    """Before the server starts: a be.ENERGISED app in its database (its PSK kept for the run)."""
    command = [sys.executable, "-m", "voltgate", "clients", "create", "--name", "bench app"]
    command += ["--kind", "beenergised_app", "--scopes", "contact", "--json"]
    done = subprocess.run(
        command,
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    _APP.update(json.loads(done.stdout))
    return {}


_APP: dict[str, str] = {}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graphql_hostile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--attackers", type=int, default=2)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        start_voltgate(sys.executable, ROOT, Path(folder), prepare=_beenergised_app) as server,
    ):
        run = _measure(server.base_url, _APP["psk"], args.seconds, args.clients, args.attackers)
        print(asyncio.run(run))


if __name__ == "__main__":
    main()
