"""panva/oidc-provider (npm), in memory, as a bench peer: opaque and ES256 JWT access tokens.

The set-up is ours (`oidc_provider/server.mjs`, with `package.json` and `package-lock.json`
pinning oidc-provider and jose exactly). On first use it is installed into
`bench/.peers/oidc-provider/` (ignored by git) with `npm ci` from that lock file, using the
machine's `node`/`npm`; the install is redone when the lock file changes.

One Node process (no cluster), the default in-memory adapter, one confidential client
(client_secret_basic; client_credentials, authorization_code, refresh_token grants),
clientCredentials, introspection and revocation enabled. Routes:

- token `/token`, introspect `/token/introspection`, revoke `/token/revocation`: the
  provider's own endpoints;
- me `/bench/me`: a Koa middleware in the provider's app (ahead of its router) that checks the
  bearer as a resource server beside the provider would — opaque: the token's record in the
  provider's store (`ClientCredentials.find`, then `AccessToken.find`); JWT: jose's
  `jwtVerify` with the provider's ES256 public key (`typ` at+jwt, `iss`, `aud`, `exp`) on every
  request — and answers a small JSON;
- floor `/bench/floor`: a Koa middleware answering `{"status":"ok"}`, the same app and server;
- refresh: a refresh token created at start-up through the provider's `Grant`/`RefreshToken`
  models, as an authorization-code exchange with `offline_access` would leave it, and kept
  reusable by `rotateRefreshToken: false`. With opaque tokens that row slows down as a run goes
  on: every access token issued under the grant joins the in-memory adapter's per-grant index
  (for revocation by grant), which the adapter scans on every save.

The JWT set-up has no introspect/revoke rows: oidc-provider answers `400 unsupported_token_type`
for structured (JWT) tokens at both endpoints.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bench.servers import (
    LOOPBACK,
    ROOT,
    Credentials,
    Endpoints,
    RunningServer,
    ServerFactory,
    free_port,
    spawn,
    stop_process,
    wait_ready,
)
from bench.services import ServiceUnavailable, run_step

SOURCE = Path(__file__).resolve().parent / "oidc_provider"
INSTALL_DIR = ROOT / "bench" / ".peers" / "oidc-provider"
_FILES = ("package.json", "package-lock.json")
_INSTALL_TIMEOUT = 600.0


def _pinned(package: str) -> str:
    manifest = json.loads((SOURCE / "package.json").read_text())
    return str(manifest["dependencies"][package])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ServiceUnavailable(f"`{name}` is not installed (Node.js 20.19 or later is needed)")
    return found


def _digest() -> str:
    h = hashlib.sha256()
    for name in _FILES:
        h.update((SOURCE / name).read_bytes())
    return h.hexdigest()


def ensure_installed() -> str:
    """Install the pinned packages into INSTALL_DIR unless the same lock file already is;
    copy the server script there (node resolves its imports from its own directory).
    Returns the path of `node`."""
    node, npm = _tool("node"), _tool("npm")
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    stamp = INSTALL_DIR / ".installed"
    digest = _digest()
    with (INSTALL_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time
        ready = (INSTALL_DIR / "node_modules" / "oidc-provider" / "package.json").exists()
        if not (ready and stamp.exists() and stamp.read_text().strip() == digest):
            stamp.unlink(missing_ok=True)
            for name in _FILES:
                shutil.copyfile(SOURCE / name, INSTALL_DIR / name)
            command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
            run_step(command, timeout=_INSTALL_TIMEOUT, cwd=INSTALL_DIR)
            stamp.write_text(digest + "\n")
        shutil.copyfile(SOURCE / "server.mjs", INSTALL_DIR / "server.mjs")
    return node


def _node_version(node: str) -> str:
    proc = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    return proc.stdout.strip() or "?"


@contextlib.contextmanager
def start_oidc_provider(workdir: Path, *, token_format: str) -> Iterator[RunningServer]:
    """oidc-provider on 127.0.0.1 (one Node process), stopped on every exit path."""
    if token_format not in ("opaque", "jwt"):
        raise ValueError(f"token_format must be 'opaque' or 'jwt', not {token_format!r}")
    node = ensure_installed()
    workdir.mkdir(parents=True, exist_ok=True)
    version = _pinned("oidc-provider")
    credentials = Credentials("bench", secrets.token_urlsafe(32))
    port = free_port()
    log = workdir / "server.log"
    state = workdir / "oidc-provider-state.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NODE_", "BENCH_"))}
    env |= {
        "NODE_ENV": "production",
        "BENCH_PORT": str(port),
        "BENCH_CLIENT_ID": credentials.client_id,
        "BENCH_CLIENT_SECRET": credentials.client_secret,
        "BENCH_TOKEN_FORMAT": token_format,
        "BENCH_STATE_FILE": str(state),
    }
    with contextlib.ExitStack() as stack:
        process = spawn([node, str(INSTALL_DIR / "server.mjs")], env, log, INSTALL_DIR)
        stack.callback(stop_process, process)
        base_url = f"http://{LOOPBACK}:{port}"
        # No worker processes: the Node process serves itself.
        wait_ready(base_url + "/bench/floor", process, log, workers=0)
        refresh_token = str(json.loads(state.read_text())["refresh_token"])
        jwt = token_format == "jwt"
        label = "ES256 JWT" if jwt else "opaque"
        server = RunningServer(
            name=f"oidc-provider ({label})",
            base_url=base_url,
            process=process,
            log_path=log,
            endpoints=Endpoints(
                token="/token",
                me="/bench/me",
                floor="/bench/floor",
                introspect=None if jwt else "/token/introspection",
                revoke=None if jwt else "/token/revocation",
                refresh_token=refresh_token,
            ),
            credentials=credentials,
        )
        if jwt:
            tokens = (
                "ES256 JWT access tokens (typ at+jwt, one resource indicator, not stored); "
                "/bench/me verifies each with jose and the provider's public key, no cache; "
                "no introspect/revoke rows: oidc-provider answers 400 unsupported_token_type "
                "for JWT tokens at both endpoints"
            )
        else:
            tokens = (
                "opaque access tokens kept in the in-memory adapter; /bench/me looks the token "
                "up there (ClientCredentials.find); the refresh row slows down the longer it "
                "runs: each access token issued under the seeded grant joins the adapter's "
                "per-grant index, which is scanned on every save"
            )
        server.notes.append(
            f"{server.name}: oidc-provider {version}, jose {_pinned('jose')}, Node "
            f"{_node_version(node)} (oidc-provider 9 warns that it wants Node 22+), one "
            "process, NODE_ENV=production, default in-memory adapter, no request log; "
            f"{tokens}; refresh token seeded through the provider's Grant/RefreshToken models "
            "(scope offline_access, no openid: no ID token), reusable (rotateRefreshToken: false)"
        )
        yield server


SERVERS: dict[str, ServerFactory] = {
    "oidc-provider-opaque": lambda workdir: start_oidc_provider(workdir, token_format="opaque"),
    "oidc-provider-jwt": lambda workdir: start_oidc_provider(workdir, token_format="jwt"),
}
