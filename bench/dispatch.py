"""`python -m bench.dispatch`: the dispatch paths voltgate could put its routes on, measured on
the same guarded read in one run.

Variants (apps in `bench/peers/dispatch/`, all serving `common.py`'s route): voltgate's own
router (`http/routing.py`, in voltgate's venv), plain Starlette routes with a pydantic model
compiled once, FastAPI with the guard as a dependency (how voltgate's routes were served),
and Litestar with a guard — the last three in a venv of their own (`bench/.peers/dispatch/`,
from `bench/peers/dispatch/requirements.txt`). Each runs on granian (ASGI, one worker, uvloop,
no access log), is loaded by wrk (`--connections`, `--duration` after `--warmup`), in two
rounds in opposite orders so a drift of the machine falls on every variant alike.

    .venv/bin/python -m bench.dispatch [--duration 10] [--warmup 2] [--connections 64]
        [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.loadgen import HttpRequest, LoadResult, LoadSettings, ensure_wrk, run_wrk
from bench.machine import describe, wait_quiet
from bench.peers.pyvenv import ensure_venv
from bench.servers import ROOT, free_port, http_request, spawn, stop_process

APPS = ROOT / "bench" / "peers" / "dispatch"
PEERS_VENV = ROOT / "bench" / ".peers" / "dispatch"
PATH = "/v1/operator/devices/dev007?size=20"
TOKEN = "Bearer bench-token-0123456789abcdef"
# name -> (module:app, runs in voltgate's venv?)
VARIANTS = {
    "voltgate router": ("router_app:app", True),
    "starlette routes": ("starlette_app:app", False),
    "fastapi depends": ("fastapi_app:app", False),
    "litestar guard": ("litestar_app:app", False),
}


@contextmanager
def _serve(python: str, target: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    log = workdir / f"{target.split(':')[0]}.log"
    command = [
        python,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--working-dir",
        str(APPS),
        target,
    ]
    process = spawn(
        command, {"PYTHONPATH": f"{APPS}:{ROOT / 'src'}", "PATH": "/usr/bin"}, log, ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(OSError):
                http_request("GET", base + PATH, headers={"Authorization": TOKEN}, timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not answer within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        stop_process(process)


def run(settings: LoadSettings) -> dict[str, list[LoadResult]]:
    wrk = ensure_wrk()
    peers = ensure_venv(PEERS_VENV, APPS / "requirements.txt", "dispatch variants")
    request = HttpRequest("GET", PATH, headers={"Authorization": TOKEN})
    results: dict[str, list[LoadResult]] = {name: [] for name in VARIANTS}
    order = list(VARIANTS)
    with TemporaryDirectory(prefix="voltgate-bench-dispatch-") as tmp:
        for names in (order, order[::-1]):
            for name in names:
                target, ours = VARIANTS[name]
                python = sys.executable if ours else str(peers / "python")
                with _serve(python, target, Path(tmp)) as base:
                    wait_quiet(25.0, 20.0)
                    run_wrk(wrk, base, request, settings, settings.warmup)
                    results[name].append(run_wrk(wrk, base, request, settings, settings.duration))
    return results


def table(results: dict[str, list[LoadResult]]) -> str:
    ours = sum(r.rps for r in results["voltgate router"]) / len(results["voltgate router"])
    lines = [
        "| dispatch path | req/s (each round) | mean req/s | p99 ms | x voltgate router |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        mean = sum(r.rps for r in runs) / len(runs)
        each = " / ".join(f"{r.rps:,.0f}" for r in runs)
        p99 = max(r.p99_ms for r in runs)
        lines.append(f"| {name} | {each} | {mean:,.0f} | {p99:.2f} | {mean / ours:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path)
    opts = parser.parse_args(argv)
    settings = LoadSettings(
        duration=opts.duration, warmup=opts.warmup, connections=opts.connections
    )
    results = run(settings)
    text = table(results)
    print(text)
    if opts.out is not None:
        machine = "\n".join(f"- {k}: {v}" for k, v in describe(ROOT, ensure_wrk(), settings))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        opts.out.write_text(f"# Dispatch paths, {stamp}\n\n{machine}\n\n{text}\n")
    failed = any(r.failures for runs in results.values() for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
