"""`voltgate proxy`: the vehicle command proxy as its own process (see voltgate/proxy/)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from voltgate.cli.common import console, fail
from voltgate.identity.appkeys import fingerprint
from voltgate.sdk.vehicle_command import VehicleCommandError, load_private_key, public_bytes

_LOOPBACK_NAMES = {"localhost"}


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65_536:
        fail(f"--listen takes HOST:PORT, e.g. 127.0.0.1:4443, not {value!r}")
    return host.strip("[]"), int(port)


def proxy(
    key: Annotated[Path, typer.Option("--key", help="The app's P-256 private key (PEM).")],
    upstream: Annotated[str, typer.Option("--upstream", help="Fleet API's base URL.")],
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve on.")] = (
        "127.0.0.1:4444"  # 4443 is the sandbox's Fleet Telemetry listener
    ),
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds for a command, handshake included.")
    ] = 10.0,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Certificate (PEM) to serve HTTPS with.")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The certificate's private key (PEM).")
    ] = None,
) -> None:
    """Sign vehicle commands with the app's key and forward them to Fleet API (every other
    /api/1 call is forwarded as it is). Plain HTTP only on a loopback address; the upstream
    must be https unless it is on loopback too."""
    host, port = _listen(listen)
    try:
        private = load_private_key(key.read_bytes())
    except OSError as exc:
        fail(f"cannot read --key {key}: {exc.strerror}")
    except VehicleCommandError as exc:
        fail(f"--key {key} is not a P-256 private key in PEM: {exc}")
    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    if tls_cert is None and not _loopback(host):
        fail(f"--listen {host} is not loopback: serve HTTPS (--tls-cert, --tls-key)")
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--upstream must be an http(s) URL, not {upstream!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        fail("--upstream must be https unless it is on loopback (a sandbox)")
    if parts.path.strip("/") or parts.query:
        fail(f"--upstream is Fleet API's base URL, without a path: {parts.scheme}://{parts.netloc}")
    _free(host, port)
    # The workers build the proxy from these (proxy/config.py).
    os.environ["VOLTGATE_PROXY_KEY_FILE"] = str(key.resolve())
    os.environ["VOLTGATE_PROXY_UPSTREAM"] = upstream.rstrip("/")
    os.environ["VOLTGATE_PROXY_TIMEOUT"] = repr(timeout)
    scheme = "https" if tls_cert else "http"
    console.print(f"vehicle command proxy on {scheme}://{listen} -> {upstream}")
    console.print(
        f"signing with the key {fingerprint(public_bytes(private))} (as /_ak/<domain> shows it)"
    )
    _serve(host, port, tls_cert, tls_key)


def _free(host: str, port: int) -> None:
    """A clear line, not the server's traceback, when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port}: {exc.strerror} (4443 is the sandbox's Fleet "
                "Telemetry listener); pick another --listen"
            )


def _serve(host: str, port: int, cert: Path | None, key: Path | None) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
    from granian.server import Server

    Server(
        target="voltgate.proxy.app:from_environment",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,  # the per-VIN lock and the sessions live in one process
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        ssl_cert=cert,
        ssl_key=key,
        log_access=False,
        # One worker with one runtime thread: the single-threaded runtime spares the wake-ups
        # across threads (p50 through the proxy 1.05-1.19 ms against 1.12-1.19 ms, ratio to the
        # unsigned command 2.10-2.44x against 2.55-2.62x, alternated, the box under load).
        runtime_mode=RuntimeModes.st,
    ).serve()
