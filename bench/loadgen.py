"""The load generator: wrk driven by a generated Lua script that reports its numbers as JSON."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = "BENCH_RESULT "

# wrk's `done` hook runs once with the statistics of every thread merged; latencies are in µs.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    "MARKER", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
""".replace("MARKER", _MARKER)


@dataclass(frozen=True)
class HttpRequest:
    """One request that every connection repeats for the length of a run."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class LoadSettings:
    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 64
    threads: int = 1
    timeout: float = 30.0  # a slow peer's requests time out visibly instead of silently


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # wrk's `status` error counts responses with a status >= 400; 3xx would pass unnoticed.
    status_errors: int
    socket_errors: int
    wrk_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failures(self) -> int:
        return self.status_errors + self.socket_errors

    @property
    def ok_responses(self) -> int:
        return self.requests - self.status_errors


class LoadgenUnavailable(RuntimeError):
    pass


def ensure_wrk() -> str:
    """The path of wrk, installing the Debian package when we are root with apt-get."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise LoadgenUnavailable(
            "wrk is not installed; install it (Debian/Ubuntu: `apt-get install wrk`, "
            "macOS: `brew install wrk`) and run again"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run([apt, "update"], env=env, check=False)
        subprocess.run(install, env=env, check=False)
    found = shutil.which("wrk")
    if found is None:
        raise LoadgenUnavailable("`apt-get install wrk` did not provide wrk; install it by hand")
    return found


def wrk_version(wrk: str) -> str:
    proc = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (proc.stdout or proc.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk"


def _lua_string(value: str) -> str:
    """A Lua string literal; everything but plain characters becomes a decimal byte escape."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./:=+,;"
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in value.encode()) + '"'


def lua_script(request: HttpRequest) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {_lua_string(request.body)}")
    lines += [
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items()
    ]
    return "\n".join(lines) + "\n" + _DONE


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    wrk: str, base_url: str, request: HttpRequest, settings: LoadSettings, duration: float
) -> LoadResult:
    """Load `base_url + request.path` for `duration` seconds and return wrk's numbers."""
    with tempfile.TemporaryDirectory(prefix="voltgate-wrk-") as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(lua_script(request))
        command = [
            wrk,
            f"-t{settings.threads}",
            f"-c{settings.connections}",
            f"-d{duration:g}s",
            f"--timeout={settings.timeout:g}s",
            "-s",
            str(script),
            base_url + request.path,
        ]
        cpu_before = _children_cpu()
        proc = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=duration + 60
        )
        wrk_cpu = _children_cpu() - cpu_before
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(_MARKER)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
        )
    raw = json.loads(line[len(_MARKER) :])
    return LoadResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1e3,
        p90_ms=raw["p90_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        max_ms=raw["max_us"] / 1e3,
        status_errors=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        wrk_cpu_s=wrk_cpu,
    )
