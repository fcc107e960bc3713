"""Servers under test: start one on 127.0.0.1, hand out its endpoints and credentials, stop it.

Every server is a `RunningServer`; voltgate is the first, in three set-ups: the embedded default
(SQLite, one worker), the scale path (PostgreSQL + Redis, one worker) and the scale path with
two workers. The peers of issue 6 (oidc-provider, Authlib + Flask, django-oauth-toolkit) add a
`start_*` context manager of their own here or in a sibling module, and the workloads and the
report work unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import proctree, services

LOOPBACK = services.LOOPBACK
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Endpoints:
    """Paths of the routes the workloads call; None where a server has no such route."""

    token: str | None = None
    me: str | None = None
    floor: str | None = None
    introspect: str | None = None  # RFC 7662, client authenticated by HTTP Basic
    revoke: str | None = None  # RFC 7009, client authenticated by HTTP Basic
    # A refresh_token grant needs a refresh token from a user's grant: the peer's factory
    # obtains one (or None where the server has no refresh grant yet).
    refresh_token: str | None = None


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str

    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True)
class RefreshFamilies:
    """Refresh tokens, each of its own family (one code redemption each), and the app's
    credentials that a refresh of them needs."""

    credentials: Credentials
    tokens: list[str]


@dataclass
class RunningServer:
    name: str
    base_url: str
    # The process the bench started: granian's main process. The app runs in its workers.
    process: subprocess.Popen[bytes]
    log_path: Path
    endpoints: Endpoints
    credentials: Credentials
    # Counts a server's audit rows of one event, for the durability check; None: no such check.
    count_audit: Callable[[str], int] | None = None
    # Processes of the services this server uses (its PostgreSQL backends, Redis), for the
    # "services CPU" column; None when it uses none.
    service_pids: Callable[[], list[int]] | None = None
    notes: list[str] = field(default_factory=list)
    # Cap on wrk's connections for a server that answers a few requests a second, so queued
    # requests do not outlive the run (wrk never counts those that are still pending).
    max_connections: int | None = None
    # Starts n token families and returns their refresh tokens, for a refresh workload that
    # chains rotations; None: the server's refresh workload (if any) replays one token.
    seed_refresh: Callable[[int], RefreshFamilies] | None = None
    # Refresh tokens consumed by rotation so far, for the chained refresh workload's check.
    count_rotations: Callable[[], int] | None = None
    # Registers n chargers (two connectors each) and returns a device token for each, for the
    # telemetry workload; None: the server has no charger API.
    seed_devices: Callable[[int], list[str]] | None = None
    # Telemetry readings stored so far, for the telemetry workload's durability check.
    count_telemetry: Callable[[], int] | None = None
    # Adds n generated public charge points to the server's database (beside it) and signs a
    # new be.ENERGISED contact in: its session token, for the GraphQL workloads; None: no
    # be.ENERGISED dialect.
    seed_graphql: Callable[[int], str] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def tree(self) -> list[int]:
        """The main process and all its descendants (workers), main first."""
        return proctree.tree(self.pid)

    def worker_pids(self) -> list[int]:
        return proctree.workers(self.pid)

    def peak_rss_kib(self) -> int:
        """The largest VmHWM (resident high-water mark) of any process of the tree."""
        return max((proctree.status_kib(p, "VmHWM") for p in self.tree()), default=0)

    def worker_peak_rss_kib(self) -> list[int]:
        """VmHWM of each worker process, in pid order."""
        return [proctree.status_kib(p, "VmHWM") for p in self.worker_pids()]

    def tree_peak_rss_kib(self) -> int:
        """The sum of the VmHWM of every process of the tree: an upper bound of what the whole
        server held at once (forked workers share pages with the main process)."""
        return sum(proctree.status_kib(p, "VmHWM") for p in self.tree())

    def cpu_seconds(self) -> float:
        """User + system CPU of every thread of every process of the tree so far (reaped
        children included, so a process that ends in between still counts)."""
        return sum(proctree.cpu_seconds(p) for p in self.tree())

    def main_cpu_seconds(self) -> float:
        """The main process's own CPU (granian's supervisor, no application code)."""
        return proctree.cpu_seconds(self.pid, reaped_children=False)

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def bearer_token(self) -> str:
        """One access token by client_credentials with HTTP Basic, for the read workloads."""
        if self.endpoints.token is None:
            raise RuntimeError(f"{self.name} has no token endpoint")
        body = http_request(
            "POST",
            self.base_url + self.endpoints.token,
            headers={
                "Authorization": self.credentials.basic(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=b"grant_type=client_credentials",
        )
        return str(json.loads(body)["access_token"])

    def audit_rows(self, event: str) -> int | None:
        return None if self.count_audit is None else self.count_audit(event)


def _sqlite_count(path: Path, query: str, *params: str) -> int:
    """`SELECT count(*) …` on a read-only connection to the server's SQLite file."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute(query, params).fetchone()
    return int(row[0])


_AUDIT_ROWS = "SELECT count(*) FROM audit_events WHERE event = ?"
_TELEMETRY_ROWS = "SELECT count(*) FROM telemetry"
_CONSUMED_REFRESH = "SELECT count(*) FROM refresh_tokens WHERE consumed_at IS NOT NULL"


def http_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 5.0,
) -> bytes:
    if urllib.parse.urlsplit(url).hostname != LOOPBACK:
        raise ValueError(f"the bench talks to {LOOPBACK} only, not {url}")
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback only, checked above
        data: bytes = resp.read()
    return data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, workers: int = 1, timeout: float = 60.0
) -> bool:
    """Until `url` answers 2xx and `workers` worker processes run; then, for at most 15 s more,
    until granian has logged `Started worker-N` for each (False when it did not say so)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"server not ready at {url} after {timeout:g} s:\n{tail(log)}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            http_request("GET", url, timeout=1.0)
            if len(proctree.workers(process.pid)) >= workers:
                break
        time.sleep(0.1)
    # One worker answering does not mean all have finished starting (lifespan: keys, pools).
    soft_deadline = min(deadline, time.monotonic() + 15.0)
    while time.monotonic() < soft_deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if all(f'Started worker-{i}"' in text for i in range(1, workers + 1)):
            return True
        time.sleep(0.1)
    return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM to the main process (granian then stops its workers, and a graceful shutdown
    flushes what they buffer); SIGKILL to the whole process group after `grace` seconds.

    The server runs in a session and process group of its own (see `spawn`), which its
    workers inherit: whatever of the tree outlives the main process is stopped through it.
    """
    pgid = process.pid
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            # Too slow, or a second Ctrl-C while waiting: do not leave it running either way.
            _signal_group(pgid, signal.SIGKILL)
            process.kill()
            process.wait()
    # Workers orphaned by a main process that died or was killed: TERM, then KILL, bounded.
    # (The group id stays ours while any member lives; the kernel does not reuse it till then.)
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        if not _group_alive(pgid):
            return
        _signal_group(pgid, sig)
        until = time.monotonic() + wait_s
        while time.monotonic() < until and _group_alive(pgid):
            time.sleep(0.05)
    if _group_alive(pgid):
        print(f"bench: processes of group {pgid} outlived SIGKILL", file=sys.stderr)


def spawn(
    command: list[str], env: Mapping[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        # A session (and process group) of its own: a Ctrl-C in the terminal reaches only the
        # bench, which then stops the server itself, and every process of the server's tree
        # can be signalled at once.
        return subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )


def _module(
    python: str,
    root: Path,
    env: Mapping[str, str],
    module: str,
    *args: str,
    timeout: float = 120.0,
) -> str:
    """`python -m module …` with the server's environment; its stdout, or RuntimeError."""
    what = " ".join((module, *args))
    try:
        proc = subprocess.run(
            [python, "-m", module, *args],
            env=dict(env),
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"`{what}` took more than {timeout:g} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"`{what}` failed:\n{proc.stderr or proc.stdout}")
    return proc.stdout


def _cli(
    python: str, root: Path, env: Mapping[str, str], *args: str, timeout: float = 120.0
) -> str:
    """`voltgate …` with the server's environment."""
    return _module(python, root, env, "voltgate", *args, timeout=timeout)


def _voltgate_families(
    python: str, root: Path, env: Mapping[str, str], base_url: str
) -> Callable[[int], RefreshFamilies]:
    """Families as an app starts them: codes minted beside the running server (`bench.seed`),
    each redeemed at its token endpoint at once (a code lives 60 s)."""

    def seed(count: int) -> RefreshFamilies:
        made = json.loads(_module(python, root, env, "bench.seed", "--count", str(count)))
        credentials = Credentials(made["client_id"], made["client_secret"])
        tokens = []
        for code in made["codes"]:
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": made["redirect_uri"],
            }
            body = http_request(
                "POST",
                base_url + "/oauth/token",
                headers={
                    "Authorization": credentials.basic(),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                body=urllib.parse.urlencode(form).encode(),
            )
            tokens.append(str(json.loads(body)["refresh_token"]))
        return RefreshFamilies(credentials, tokens)

    return seed


def _voltgate_devices(base_url: str) -> Callable[[int], list[str]]:
    """Chargers as they join a sandbox: open registration (`/v1/device/register`, two
    connectors each), then a device token each (`/v1/device/token`)."""

    def seed(count: int) -> list[str]:
        tag = secrets.token_hex(4)
        tokens = []
        for index in range(count):
            charger = {
                "sn": f"BENCH-{tag}-{index:05d}",
                "model": "bench",
                "manufacturer": "bench",
                "firmware_version": "1",
                "connectors": [{"type": "CCS2", "max_power_kw": 150}] * 2,
            }
            registered = json.loads(_post_json(base_url + "/v1/device/register", charger))
            credentials = {
                "device_id": registered["data"]["device_id"],
                "device_secret": registered["data"]["device_secret"],
                "grant_type": "client_credentials",
            }
            token = json.loads(_post_json(base_url + "/v1/device/token", credentials))
            tokens.append(str(token["data"]["access_token"]))
        return tokens

    return seed


def _post_json(url: str, body: object, bearer: str | None = None) -> bytes:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return http_request("POST", url, headers=headers, body=json.dumps(body).encode())


_REGISTER = (
    "mutation($p: ContactProfileInput!) { registerContact(contactProfile: $p) { profile { id } } }"
)
_INIT_SESSION = (
    "mutation($u: String!, $p: String!) { initSession(username: $u, password: $p) "
    "{ sessionToken } }"
)


def _voltgate_graphql(
    python: str, root: Path, env: Mapping[str, str], base_url: str
) -> Callable[[int], str]:
    """The charge points bulk-loaded beside the running server (`voltgate chargepoints
    generate`, ~20 s a million), then a be.ENERGISED app (`clients create --kind
    beenergised_app`: its PSK) and a contact registered and signed in over HTTP, as an app does."""

    def seed(charge_points: int) -> str:
        if charge_points > 0:
            _cli(python, root, env, "chargepoints", "generate", str(charge_points), timeout=900)
        app = json.loads(
            _cli(
                python,
                root,
                env,
                *("clients", "create", "--name", "bench app", "--kind", "beenergised_app"),
                *("--scopes", "contact", "--json"),
            )
        )
        email = f"bench-{secrets.token_hex(4)}@example.com"
        password = secrets.token_urlsafe(16)
        profile = {"name": "Bench", "email": email, "password": password}
        _graphql(base_url, _REGISTER, {"p": profile}, app["psk"])
        started = _graphql(base_url, _INIT_SESSION, {"u": email, "p": password}, app["psk"])
        return str(started["initSession"]["sessionToken"])

    return seed


def _graphql(base_url: str, query: str, variables: object, bearer: str) -> dict[str, Any]:
    """A GraphQL operation's data; RuntimeError when it answered errors."""
    answer = json.loads(
        _post_json(base_url + "/graphql", {"query": query, "variables": variables}, bearer)
    )
    if answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"GraphQL set-up failed: {answer}")
    data: dict[str, Any] = answer["data"]
    return data


@contextlib.contextmanager
def start_voltgate(
    python: str,
    root: Path,
    workdir: Path,
    *,
    name: str = "voltgate (sqlite)",
    workers: int = 1,
    scale: bool = False,
    serve: tuple[str, ...] = ("voltgate", "serve"),
    prepare: Callable[[Mapping[str, str], str], Mapping[str, str]] | None = None,
    env_extra: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """`voltgate serve` (granian, `workers` worker processes) on 127.0.0.1.

    Embedded default: SQLite WAL in a fresh data dir, in-process cache. With `scale`: a fresh
    PostgreSQL database (migrated with `voltgate db upgrade`) and a fresh Redis namespace, both
    removed again afterwards. The environment is the bench's, minus every VOLTGATE_* variable,
    plus the ones set here; the log level stays at its default: the request log is part of what
    a deployment pays. stderr goes to `workdir/server.log`.

    `serve` is the module (and arguments) that runs the server, `prepare(env, operator_id)`
    seeds the database before it starts and returns more environment for it (the
    protected-route bench seeds the sandbox world).
    """
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("VOLTGATE_")}
    env |= {
        "VOLTGATE_DATA_DIR": str(data_dir),
        # The bench is one client from one address: lift the per-client/per-address limits.
        "VOLTGATE_TOKEN_RATE_PER_CLIENT": "1000000000",
        "VOLTGATE_TOKEN_RATE_PER_ADDRESS": "1000000000",
        **(env_extra or {}),
    }
    with contextlib.ExitStack() as stack:
        count_audit: Callable[[str], int]
        count_rotations: Callable[[], int]
        count_telemetry: Callable[[], int]
        service_pids: Callable[[], list[int]] | None = None
        if scale:
            # Entered first, so left last: the server is stopped before these are removed.
            db = stack.enter_context(services.fresh_database())
            namespace = stack.enter_context(services.redis_namespace())
            env |= {
                "VOLTGATE_DATABASE_URL": db.url,
                "VOLTGATE_REDIS_URL": services.REDIS_URL,
                "VOLTGATE_REDIS_NAMESPACE": namespace,
            }
            _cli(python, root, env, "db", "upgrade")

            def count_audit(event: str) -> int:
                return db.count("audit_events", "event", event)

            def count_rotations() -> int:
                return db.count_not_null("refresh_tokens", "consumed_at")

            def count_telemetry() -> int:
                return db.count_not_null("telemetry", "id")

            def service_pids() -> list[int]:
                return [*db.backend_pids(), *services.redis_pids()]
        else:
            sqlite_file = data_dir / "voltgate.db"

            def count_audit(event: str) -> int:
                return _sqlite_count(sqlite_file, _AUDIT_ROWS, event)

            def count_rotations() -> int:
                return _sqlite_count(sqlite_file, _CONSUMED_REFRESH)

            def count_telemetry() -> int:
                return _sqlite_count(sqlite_file, _TELEMETRY_ROWS)

        client = json.loads(
            _cli(
                python,
                root,
                env,
                "clients",
                "create",
                "--name",
                "bench",
                "--kind",
                "operator",
                "--scopes",
                "read write",
                "--json",
            )
        )
        if prepare is not None:
            env |= prepare(env, client["client_id"])
        port = free_port()
        log = workdir / "server.log"
        process = spawn(
            [
                python,
                "-m",
                *serve,
                "--host",
                LOOPBACK,
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env,
            log,
            root,
        )
        stack.callback(stop_process, process)
        base_url = f"http://{LOOPBACK}:{port}"
        all_started = wait_ready(base_url + "/readyz", process, log, workers)
        server = RunningServer(
            name=name,
            base_url=base_url,
            process=process,
            log_path=log,
            endpoints=Endpoints(
                token="/oauth/token",
                me="/v1/me",
                floor="/healthz",
                introspect="/oauth/introspect",
                revoke="/oauth/revoke",
            ),
            credentials=Credentials(client["client_id"], client["client_secret"]),
            count_audit=count_audit,
            service_pids=service_pids,
            seed_refresh=_voltgate_families(python, root, env, base_url),
            count_rotations=count_rotations,
            seed_devices=_voltgate_devices(base_url),
            count_telemetry=count_telemetry,
            seed_graphql=_voltgate_graphql(python, root, env, base_url),
        )
        if not all_started:
            server.notes.append(
                f"{name}: granian did not log `Started worker-N` for all {workers} workers "
                "within 15 s of the first answer; the warm-up absorbs the rest of their start"
            )
        yield server


# Started in a fresh working directory (data, logs) per workload; a peer registers itself here.
ServerFactory = Callable[[Path], AbstractContextManager[RunningServer]]

SERVERS: dict[str, ServerFactory] = {
    "sqlite": lambda workdir: start_voltgate(sys.executable, ROOT, workdir),
    "postgres": lambda workdir: start_voltgate(
        sys.executable, ROOT, workdir, name="voltgate (postgres+redis)", scale=True
    ),
    "postgres2": lambda workdir: start_voltgate(
        sys.executable,
        ROOT,
        workdir,
        name="voltgate (postgres+redis, 2 workers)",
        workers=2,
        scale=True,
    ),
}

# The be.ENERGISED endpoint as graphql-core runs it by default (`VOLTGATE_GRAPHQL_CACHE=false`:
# every document parsed and validated on every request, no kept answers): the GraphQL
# workloads' peer row. Not in the `all` and `voltgate` groups: named with --server.
GRAPHQL_DEFAULT = {"VOLTGATE_GRAPHQL_CACHE": "false"}
GRAPHQL_DEFAULT_ROW = "graphql-core default pipeline"
VARIANTS: dict[str, ServerFactory] = {
    "sqlite-graphql-default": lambda workdir: start_voltgate(
        sys.executable,
        ROOT,
        workdir,
        name=f"{GRAPHQL_DEFAULT_ROW} (sqlite)",
        env_extra=GRAPHQL_DEFAULT,
    ),
    "postgres-graphql-default": lambda workdir: start_voltgate(
        sys.executable,
        ROOT,
        workdir,
        name=f"{GRAPHQL_DEFAULT_ROW} (postgres+redis)",
        scale=True,
        env_extra=GRAPHQL_DEFAULT,
    ),
}


def seeding(
    holder: dict[str, Any], module: str, *args: str
) -> Callable[[Mapping[str, str], str], Mapping[str, str]]:
    """A `prepare` for start_voltgate: `python -m <module> seed <args>` on the server's data
    before it starts; the JSON its last line prints goes into `holder`."""

    def prepare(env: Mapping[str, str], _operator_id: str) -> Mapping[str, str]:
        proc = subprocess.run(
            [sys.executable, "-m", module, "seed", *args],
            env=dict(env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{module} seed failed:\n{proc.stderr}")
        holder.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        return {}

    return prepare
