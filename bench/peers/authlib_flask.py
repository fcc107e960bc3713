"""The Authlib + Flask peer: a minimal Authlib authorization server on gunicorn, in memory.

The app is `authlib_flask/app.py` beside this module (written for this benchmark); it runs in a
venv of its own, `bench/.peers/authlib-flask/` (ignored by git), installed on first use from
`authlib_flask/requirements.txt` (exact versions) and rebuilt when that file changes, so it
never touches voltgate's environment.

Served the way people run Flask: `gunicorn --workers 2 --worker-class sync` (gunicorn's default
worker class; sync workers close the connection after every response, so wrk reconnects per
request — that is part of what this set-up costs; gthread with keep-alive measured within
noise of it on floor and token, so the default stays), bound to 127.0.0.1 on a free port, with
gunicorn's other settings at their defaults (no access log) except `--no-control-socket`
(gunicorn 27 otherwise opens ~/.gunicorn/gunicorn.ctl, one path for all of a user's gunicorns).
The client secret is kept as issued and compared in constant time, as in Authlib's own client
models (voltgate keeps an HMAC of it). stderr goes to `<workdir>/server.log`.

**In memory, two workers.** Storage is dicts in each worker process, and gunicorn's workers
share nothing: a token issued by one worker is unknown to the other (introspected there it is
`active: false`, on /v1/me it is a 401). So the bench does not hand the read workloads a token
fetched over HTTP. It generates the client and two tokens itself and passes them in the
environment; each worker seeds its own storage with them when it loads the app (before it takes
a request: the bench waits for every worker's "app loaded" line):

- a long-lived access token of the client, which introspection, revocation and /v1/me replay
  (`bearer_token()` returns it), valid in both workers;
- a refresh token from a user's grant, which the refresh workload replays. Authlib's refresh
  grant by default issues no new refresh token (`INCLUDE_NEW_REFRESH_TOKEN = False`), so the app
  keeps the old one valid (`revoke_old_credential` does nothing): it is reusable and measured.

Tokens issued during the token and refresh workloads live in the issuing worker only, and a
revocation reaches only the worker that served it (each worker marks its own copy of the
seeded token revoked on its first revoke request; later ones take the same look-up + mark
path and answer 200, RFC 7009 §2.2). That is what "Authlib in memory on 2 workers" is; a real
deployment shares tokens through a database (Authlib's SQLAlchemy mixins), which costs more per
request than these dicts.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import proctree
from bench.peers.pyvenv import ensure_venv, pinned
from bench.servers import (
    LOOPBACK,
    ROOT,
    Credentials,
    Endpoints,
    RunningServer,
    ServerFactory,
    free_port,
    http_request,
    spawn,
    stop_process,
    tail,
)

NAME = "Authlib + Flask (gunicorn, 2 sync workers)"
APP_DIR = Path(__file__).resolve().with_suffix("")  # bench/peers/authlib_flask/
REQUIREMENTS = APP_DIR / "requirements.txt"
VENV = ROOT / "bench" / ".peers" / "authlib-flask"
WORKERS = 2
# The line app.py prints to stderr once a worker has loaded the app and seeded its storage.
_LOADED = re.compile(r"authlib-flask: app loaded in pid (\d+)")
_INSTALL_TIMEOUT = 600.0


@dataclass
class AuthlibServer(RunningServer):
    # The access token both workers hold from the start (see the module docstring).
    seeded_access_token: str = ""

    def bearer_token(self) -> str:
        """The seeded token, not one fetched over HTTP: that one would be known only to the
        worker that issued it, and wrk's connections reach both workers."""
        return self.seeded_access_token


def ensure_installed() -> Path:
    return ensure_venv(VENV, REQUIREMENTS, NAME)


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0
) -> None:
    """Until gunicorn runs WORKERS workers, each has logged that it loaded the app (and seeded
    its storage), and `url` answers 2xx."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{NAME} not ready at {url} after {timeout:g} s:\n{tail(log)}")
        workers = proctree.workers(process.pid)
        text = log.read_text(errors="replace") if log.exists() else ""
        loaded = {int(pid) for pid in _LOADED.findall(text)}
        if len(workers) >= WORKERS and loaded.issuperset(workers):
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                http_request("GET", url, timeout=1.0)
                return
        time.sleep(0.1)


@contextlib.contextmanager
def start_authlib_flask(workdir: Path) -> Iterator[RunningServer]:
    """gunicorn (2 sync workers) serving app.py from the peer venv on 127.0.0.1."""
    bin_dir = ensure_installed()
    workdir.mkdir(parents=True, exist_ok=True)
    credentials = Credentials("bench-" + secrets.token_hex(8), secrets.token_urlsafe(32))
    access_token = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(36)
    # The caller's environment minus what would change the peer's Python or gunicorn settings.
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "GUNICORN_CMD_ARGS"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {
        "BENCH_AUTHLIB_CLIENT_ID": credentials.client_id,
        "BENCH_AUTHLIB_CLIENT_SECRET": credentials.client_secret,
        "BENCH_AUTHLIB_ACCESS_TOKEN": access_token,
        "BENCH_AUTHLIB_REFRESH_TOKEN": refresh_token,
    }
    port = free_port()
    log = workdir / "server.log"
    command = [
        str(bin_dir / "gunicorn"),
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"{LOOPBACK}:{port}",
        # gunicorn 27's control socket lives at ~/.gunicorn/gunicorn.ctl by default: one path
        # for every gunicorn of the user, so two servers at once would collide there.
        "--no-control-socket",
        "app:app",
    ]
    process = spawn(command, env, log, APP_DIR)
    try:
        base_url = f"http://{LOOPBACK}:{port}"
        _wait_ready(base_url + "/healthz", process, log)
        server = AuthlibServer(
            name=NAME,
            base_url=base_url,
            process=process,
            log_path=log,
            endpoints=Endpoints(
                token="/oauth/token",
                me="/v1/me",
                floor="/healthz",
                introspect="/oauth/introspect",
                revoke="/oauth/revoke",
                refresh_token=refresh_token,
            ),
            credentials=credentials,
            seeded_access_token=access_token,
        )
        pins = pinned(REQUIREMENTS)
        server.notes.append(
            f"{NAME}: Authlib {pins.get('authlib', '?')}, Flask {pins.get('flask', '?')}, "
            f"gunicorn {pins.get('gunicorn', '?')} with {WORKERS} sync workers (no keep-alive: "
            "a connection per request; no access log, gunicorn's default); Authlib's "
            "AuthorizationServer (client_credentials, refresh_token), IntrospectionEndpoint, "
            "RevocationEndpoint and ResourceProtector + BearerTokenValidator (me), opaque "
            "tokens in memory, per worker (dicts). The client, one access token (introspect, "
            "revoke, me) and one refresh token are seeded into both workers at start: a token "
            "fetched over HTTP would be known to one worker only. Refresh measured: Authlib's "
            "default issues no new refresh token, so the seeded one stays valid. Tokens issued "
            "during a run, and revocations, stay in the worker that handled them"
        )
        yield server
    finally:
        stop_process(process)


SERVERS: dict[str, ServerFactory] = {"authlib": start_authlib_flask}
