"""`python -m bench.inproc`: each route of `bench.protected` called in process, through the
whole ASGI app (RequestContext, router, handler), one request at a time: CPU µs per request
(process time, so other processes on the box barely move it), and with `--profile NAME` the
functions that route spends its time in. For finding where a route's time goes; the req/s that
count come from `python -m bench.protected`.

    .venv/bin/python -m bench.inproc [--backend sqlite|postgres] [--only SUBSTRING]
        [--requests 2000] [--concurrency 1] [--profile ROUTE-NAME [--sort tottime]]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from bench.protected import ROUTES, Http, seed, world
from voltgate.app import create_app
from voltgate.config import Settings
from voltgate.observability import access_log


def _direct(
    app: Any, method: str, target: str, headers: Mapping[str, str], body: bytes | None, name: str
) -> Callable[[], Awaitable[None]]:
    """One request straight into the ASGI app: no client library's cost in the figure."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            *[(k.lower().encode(), v.encode()) for k, v in headers.items()],
            *([(b"content-length", str(len(body)).encode())] if body else []),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    message = {"type": "http.request", "body": body or b"", "more_body": False}

    async def once() -> None:
        status = 0
        sent_body = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return message
            await asyncio.Event().wait()  # as a server does: nothing more until a disconnect
            return {"type": "http.disconnect"}

        async def send(sent: dict[str, Any]) -> None:
            nonlocal status
            if sent["type"] == "http.response.start":
                status = sent["status"]

        await app(dict(scope), receive, send)
        if status >= 400:
            raise RuntimeError(f"{name}: {status}")

    return once


def _asgi_http(client: httpx.AsyncClient) -> Http:
    async def call(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        answer = await client.request(method, path, headers=headers, content=body)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.content

    return call


async def _load(once: Callable[[], Awaitable[None]], requests: int, concurrency: int) -> None:
    """`requests` calls, `concurrency` at a time (writes then share group commits)."""
    left = requests

    async def caller() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await once()

    await asyncio.gather(*(caller() for _ in range(concurrency)))


async def _run(opts: argparse.Namespace, data: Path) -> list[tuple[str, float, float]]:
    values: dict[str, Any] = {
        "data_dir": str(data),
        "issuer": "http://127.0.0.1",
        "api_rate_limit": 1_000_000_000,
        "token_rate_per_client": 1_000_000_000,
        "token_rate_per_address": 1_000_000_000,
        "log_level": "warning",
    }
    if opts.backend == "postgres":
        values["database_url"] = os.environ["VOLTGATE_DATABASE_URL"]
        values["redis_url"] = os.environ.get("VOLTGATE_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = Settings(**values)
    state = data / "fleet.json"
    os.environ.update({f"VOLTGATE_{k.upper()}": str(v) for k, v in values.items()})
    made = await seed(str(state))
    app = create_app(settings)
    access_log.enabled = False  # a line per request to the terminal is not the route's cost
    rows = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            headers, ids = await world(_asgi_http(client), made, state)
            for route in ROUTES:
                if opts.only and opts.only not in route.name:
                    continue
                path = route.path.format(**ids)
                hdrs = dict(headers[route.principal])
                body = None if route.body is None else route.body.encode()
                if body is not None:
                    hdrs["Content-Type"] = "application/json"

                once = _direct(app, route.method, path, hdrs, body, route.name)
                for _ in range(min(200, opts.requests)):
                    await once()
                profiler = cProfile.Profile() if opts.profile == route.name else None
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                await _load(once, opts.requests, opts.concurrency)
                if profiler is not None:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                rows.append((route.name, cpu / opts.requests * 1e6, wall / opts.requests * 1e6))
                if profiler is not None:
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(opts.sort).print_stats(40)
                    print(out.getvalue())
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--only")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", help="the route name to profile")
    parser.add_argument(
        "--sort", default="cumulative", help="the profile's order: cumulative or tottime"
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at once (default 1)"
    )
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="voltgate-inproc-") as tmp:
        rows = asyncio.run(_run(opts, Path(tmp)))
    floor = next((cpu for name, cpu, _ in rows if name == "healthz"), None)
    print("| route | CPU µs/request | wall µs/request | x healthz CPU |")
    print("|---|---|---|---|")
    for name, cpu, wall in rows:
        ratio = f"{floor / cpu:.2f}" if floor else ""
        print(f"| {name} | {cpu:,.0f} | {wall:,.0f} | {ratio} |")
    print(json.dumps({name: round(cpu) for name, cpu, _ in rows}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
