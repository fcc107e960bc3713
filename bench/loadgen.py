"""The load generator: wrk driven by a generated Lua script that reports its numbers as JSON."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = "BENCH_RESULT "

# wrk's `done` hook runs once with the statistics of every thread merged; latencies are in µs.
# UNEXPECTED is a Lua expression: the chained requests' own count of bad responses, else -1.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"unexpected":%d}\\n',
    "MARKER", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, UNEXPECTED))
end
""".replace("MARKER", _MARKER)

# A chained body: each wrk thread keeps a FIFO pool of tokens, one per family (its share of the
# tokens file: every THREADS-th line). request() takes the oldest and response() puts back the
# successor a 200 names, so no family is ever in flight twice and every request presents a token
# that has never been presented. (wrk's hooks do not say which connection a response belongs to,
# so families are not pinned to connections; with more families than connections no request
# waits.) A response that is not 200 or names no successor is counted, and its family ends.
_CHAIN = """
local threads, started = {}, 0
setup = function(thread)
  thread:set("chain_index", started)
  started = started + 1
  table.insert(threads, thread)
end

local pool, first, last, peeked = {}, 1, 0, false
chain_unexpected = 0

init = function(args)
  local n = 0
  for line in io.lines(TOKENS) do
    if n % THREADS == chain_index then
      last = last + 1
      pool[last] = line
    end
    n = n + 1
  end
end

request = function()
  -- wrk calls request() once on thread 0 to check it before the run and never sends that one.
  if chain_index == 0 and not peeked then
    peeked = true
    return wrk.format(nil, nil, nil, PREFIX .. "unsent")
  end
  local token = "none-left"  -- this thread lost every family: refused, and counted
  if first <= last then
    token = pool[first]
    pool[first] = nil
    first = first + 1
  end
  return wrk.format(nil, nil, nil, PREFIX .. token)
end

response = function(status, headers, body)
  local token = status == 200 and string.match(body, PATTERN)
  if token then
    last = last + 1
    pool[last] = token
  else
    chain_unexpected = chain_unexpected + 1
  end
end

local function unexpected()
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("chain_unexpected")
  end
  return total
end
"""


# Many clients: each thread loads the Authorization values once, builds one header table per
# client, and walks through them from a random start, one per request.
_ROTATE = """
local tables, n, i = {}, 0, 0
init = function(args)
  for line in io.lines(AUTHS) do
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Authorization"] = line
    n = n + 1
    tables[n] = headers
  end
  i = math.random(n) - 1
end

request = function()
  i = i % n + 1
  return wrk.format(nil, nil, tables[i], nil)
end
"""


# Many bodies: each thread formats one request per line of the bodies file once, then walks
# through them from a random start, one per request.
_CYCLE = """
local requests, n, i = {}, 0, 0
init = function(args)
  for line in io.lines(BODIES) do
    n = n + 1
    requests[n] = wrk.format(nil, nil, nil, line)
  end
  i = math.random(n) - 1
end

request = function()
  i = i % n + 1
  return requests[i]
end
"""


@dataclass(frozen=True)
class TokenChain:
    """A body that presents a single-use token and chains on the successor each response names.

    The request body is `body_prefix` + a token; a 200's JSON member `field` is that family's
    next token. Presented tokens are spent, so every wrk run (warm-up, measured) starts from a
    fresh set: `take()` hands out the next one, at least one token per connection.
    """

    body_prefix: str
    field: str
    take: Callable[[], Sequence[str]]


@dataclass(frozen=True)
class HttpRequest:
    """One request that every connection repeats for the length of a run; with `chain`, the
    same request with the body's token replaced by the latest one of a family; with `rotate`,
    the same request sent as each of many clients in turn (request i carries the
    Authorization header `rotate[i % n]`)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    chain: TokenChain | None = None
    rotate: Sequence[str] = ()
    bodies: Sequence[str] = ()


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
    # Chained runs only: responses that were not 200 or named no successor token (2xx included).
    unexpected: int | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def failures(self) -> int:
        return max(self.status_errors, self.unexpected or 0) + self.socket_errors

    @property
    def ok_responses(self) -> int:
        bad = self.status_errors if self.unexpected is None else self.unexpected
        return self.requests - bad


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


_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")  # needs no escaping in a form body


def lua_script(request: HttpRequest, tokens: Path | None = None, threads: int = 1) -> str:
    """The wrk script for `request`; a chained request also needs its tokens file."""
    if sum(map(bool, (request.rotate, request.bodies, request.chain))) > 1:
        raise ValueError("a request rotates headers, cycles bodies or chains tokens, not two")
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {_lua_string(request.body)}")
    lines += [
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items()
    ]
    if request.rotate:
        if tokens is None:
            raise ValueError("a rotating request needs its Authorization values file")
        lines.append(f"local AUTHS = {_lua_string(str(tokens))}")
        return "\n".join(lines) + "\n" + _ROTATE + _DONE.replace("UNEXPECTED", "-1")
    if request.bodies:
        if tokens is None:
            raise ValueError("a request cycling bodies needs its bodies file")
        lines.append(f"local BODIES = {_lua_string(str(tokens))}")
        return "\n".join(lines) + "\n" + _CYCLE + _DONE.replace("UNEXPECTED", "-1")
    if request.chain is None:
        return "\n".join(lines) + "\n" + _DONE.replace("UNEXPECTED", "-1")
    if tokens is None:
        raise ValueError("a chained request needs its tokens file")
    if not re.fullmatch(r"[a-z_]+", request.chain.field):
        raise ValueError(f"not a plain JSON member name: {request.chain.field!r}")
    pattern = '"' + request.chain.field + '"%s*:%s*"([^"]+)"'  # a Lua pattern
    lines += [
        f"local TOKENS = {_lua_string(str(tokens))}",
        f"local THREADS = {threads:d}",
        f"local PREFIX = {_lua_string(request.chain.body_prefix)}",
        f"local PATTERN = {_lua_string(pattern)}",
    ]
    chained = _CHAIN + _DONE.replace("UNEXPECTED", "unexpected()")
    return "\n".join(lines) + "\n" + chained


def _write_tokens(path: Path, tokens: Sequence[str], connections: int) -> None:
    if len(tokens) < connections:
        raise ValueError(f"{len(tokens)} token families for {connections} connections")
    bad = next((t for t in tokens if not _TOKEN.fullmatch(t)), None)
    if bad is not None:
        raise ValueError(f"token with characters a form body would need escaped: {bad[:12]}…")
    path.write_text("".join(t + "\n" for t in tokens))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    wrk: str, base_url: str, request: HttpRequest, settings: LoadSettings, duration: float
) -> LoadResult:
    """Load `base_url + request.path` for `duration` seconds and return wrk's numbers."""
    with tempfile.TemporaryDirectory(prefix="voltgate-wrk-") as tmp:
        script = Path(tmp) / "request.lua"
        tokens = None
        if request.rotate:
            tokens = Path(tmp) / "authorization.txt"
            tokens.write_text("".join(value + "\n" for value in request.rotate))
        if request.bodies:
            if any("\n" in b or "\r" in b for b in request.bodies):
                raise ValueError("a cycled body must be one line")
            tokens = Path(tmp) / "bodies.txt"
            tokens.write_text("".join(b + "\n" for b in request.bodies))
        if request.chain is not None:
            tokens = Path(tmp) / "tokens.txt"
            _write_tokens(tokens, request.chain.take(), settings.connections)
        script.write_text(lua_script(request, tokens, settings.threads))
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
        unexpected=None if raw["unexpected"] < 0 else raw["unexpected"],
    )
