"""django-oauth-toolkit (DOT): a minimal Django project (`django_oauth_toolkit/` beside this file)
on gunicorn with 2 sync workers and SQLite, in two set-ups.

- `dot-default`: DOT's default settings; the application's client secret is hashed the way DOT
  hashes it by default (Django's default password hasher, PBKDF2-SHA256), so every request
  authenticated by HTTP Basic (token, introspection, revocation) pays one PBKDF2.
- `dot-unhashed`: the application created with `hash_client_secret=False` (the secret compared
  in constant time), and `ROTATE_REFRESH_TOKEN = False`, so a refresh token stays valid and the
  refresh workload can replay one. DOT rotates refresh tokens by default, which makes them single
  use: `dot-default` has no refresh row.

On first use, Django, DOT and gunicorn are installed at the exact versions of
`django_oauth_toolkit/requirements.txt` into a venv of their own, `bench/.peers/django-oauth-
toolkit/` (ignored by git), and reinstalled when that file changes. Per server: a fresh SQLite
file in the work dir, migrated, with a bench user and a confidential client_credentials
application (`setup_bench.py`, run with the peer's venv); gunicorn on 127.0.0.1 and a free port,
its log in the work dir, stopped with its workers on every way out (`servers.stop_process`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
from collections.abc import Iterator
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
from bench.services import run_step

PROJECT = Path(__file__).resolve().parent / "django_oauth_toolkit"
REQUIREMENTS = PROJECT / "requirements.txt"
VENV = ROOT / "bench" / ".peers" / "django-oauth-toolkit"
WORKERS = 2
# Variables of the caller's environment that would change the peer's settings or gunicorn's.
_DROPPED_ENV = ("DJANGO_", "DOT_BENCH_", "GUNICORN_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def ensure_python() -> Path:
    """The peer venv's python, installed from requirements.txt when missing or stale."""
    return ensure_venv(VENV, REQUIREMENTS, "django-oauth-toolkit") / "python"


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    """Until both workers have answered `/ready` (each answers with its pid), at most 60 s;
    False when only one had answered after 15 s with both running (the warm-up absorbs it)."""
    start = time.monotonic()
    answered: set[str] = set()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log)}")
        elapsed = time.monotonic() - start
        if elapsed >= 60.0:
            raise RuntimeError(f"gunicorn not ready at {base_url} after 60 s:\n{tail(log)}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            answered.add(http_request("GET", base_url + "/ready", timeout=2.0).decode())
        running = len(proctree.workers(process.pid))
        if len(answered) >= WORKERS and running >= WORKERS:
            return True
        if answered and running >= WORKERS and elapsed >= 15.0:
            return False
        time.sleep(0.02)


@contextlib.contextmanager
def start_dot(workdir: Path, *, name: str, unhashed: bool) -> Iterator[RunningServer]:
    python = ensure_python()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_ENV)}
    env |= {
        "DJANGO_SETTINGS_MODULE": "benchsite.settings",
        "DOT_BENCH_DB": str(workdir / "db.sqlite3"),
        "DOT_BENCH_SECRET_KEY": secrets.token_urlsafe(50),
    }
    setup_args = []
    if unhashed:
        env["DOT_BENCH_ROTATE_REFRESH_TOKEN"] = "0"
        setup_args = ["--unhashed", "--refresh-token"]
    made = json.loads(
        run_step(
            [str(python), str(PROJECT / "setup_bench.py"), *setup_args],
            timeout=180,
            env=env,
            cwd=PROJECT,
        )
    )
    if bool(made["secret_stored_hashed"]) == unhashed:
        raise RuntimeError(f"{name}: the client secret's storage is not what the set-up asked")
    port = free_port()
    log = workdir / "server.log"
    base_url = f"http://{LOOPBACK}:{port}"
    with contextlib.ExitStack() as stack:
        process = spawn(
            [
                str(python),
                "-m",
                "gunicorn",
                "--bind",
                f"{LOOPBACK}:{port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "sync",
                # gunicorn 27's control socket defaults to one path per user (~/.gunicorn/):
                # two servers at once would share it; the bench does not use it.
                "--no-control-socket",
                "benchsite.wsgi:application",
            ],
            env,
            log,
            PROJECT,
        )
        stack.callback(stop_process, process)
        all_answered = _wait_ready(base_url, process, log)
        pins = pinned(REQUIREMENTS)
        refresh = made["refresh_token"]
        server = RunningServer(
            name=name,
            base_url=base_url,
            process=process,
            log_path=log,
            endpoints=Endpoints(
                token="/o/token/",
                me="/me",
                floor="/floor",
                introspect="/o/introspect/",
                revoke="/o/revoke_token/",
                refresh_token=None if refresh is None else str(refresh),
            ),
            credentials=Credentials(str(made["client_id"]), str(made["client_secret"])),
            # PBKDF2 per client authentication: a few requests a second, so few connections.
            max_connections=None if unhashed else 8,
        )
        server.notes.append(
            f"{name}: django-oauth-toolkit {pins.get('django-oauth-toolkit', '?')}, Django "
            f"{pins.get('django', '?')}, gunicorn {pins.get('gunicorn', '?')} with {WORKERS} "
            "sync workers (no keep-alive: a connection per request; no access log, gunicorn's "
            "default), SQLite file shared by both workers (Django's defaults); "
            "me = a view behind DOT's `protected_resource` (token looked up in SQLite), "
            "floor = an empty Django view"
        )
        if unhashed:
            server.notes.append(
                f"{name}: application created with hash_client_secret=False (secret compared "
                "in constant time); ROTATE_REFRESH_TOKEN=False, so the one refresh token made "
                "at set-up (DOT's models) stays valid and each refresh rewrites its access "
                "token in place. Two workers refreshing it at once rewrite the same row, and "
                "the loser's look-up of its own new token fails (500, ~1-2 % of refresh "
                "responses): DOT's behaviour without rotation under concurrency"
            )
        else:
            server.notes.append(
                f"{name}: client secret hashed as DOT does by default ({made['hasher']}): one "
                "hash (~0.3 s of CPU) per Basic-authenticated request (token, introspect, "
                "revoke), ~5-6 req/s on 2 workers. At -c64 a request then queues ~10 s, past "
                "wrk's 5 s timeout (wrk counts a later response as a timeout error, one still "
                "pending at the end not at all), and the warm-up's ~50 unanswered requests stay "
                "queued ahead of the measured run: such a row can show ~0 req/s and 0 errors. "
                "Refresh n/a: DOT rotates refresh tokens by default (single use)"
            )
        if not all_answered:
            server.notes.append(
                f"{name}: only one of the {WORKERS} gunicorn workers had answered within 15 s "
                "of the first answer; the warm-up absorbs the rest of their start"
            )
        yield server


SERVERS: dict[str, ServerFactory] = {
    "dot-default": lambda workdir: start_dot(
        workdir, name="django-oauth-toolkit (default, hashed secret)", unhashed=False
    ),
    "dot-unhashed": lambda workdir: start_dot(
        workdir, name="django-oauth-toolkit (unhashed secret)", unhashed=True
    ),
}
