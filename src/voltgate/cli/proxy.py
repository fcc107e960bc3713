"""`voltgate proxy`: the vehicle command proxy as its own process (see voltgate/proxy/)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from voltgate.cli.common import console, fail
from voltgate.cli.ports import unavailable
from voltgate.identity.appkeys import fingerprint
from voltgate.proxy.server import Limits, listen, tls_context
from voltgate.sdk.vehicle_command import (
    Signer,
    VehicleCommandError,
    load_private_key,
    public_bytes,
)

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
    listener = _bound(host, port)
    tls = None
    if tls_cert is not None and tls_key is not None:
        try:
            tls = tls_context(tls_cert, tls_key)
        except (OSError, ssl.SSLError) as exc:
            listener.close()
            fail(f"cannot serve HTTPS with --tls-cert {tls_cert} and --tls-key {tls_key}: {exc}")
    scheme = "https" if tls_cert else "http"
    console.print(f"vehicle command proxy on {scheme}://{listen} -> {upstream}")
    console.print(
        f"signing with the key {fingerprint(public_bytes(private))} (as /_ak/<domain> shows it)"
    )
    _serve(Signer(private), upstream.rstrip("/"), timeout, listener, tls)


def _serve(
    signer: Signer,
    upstream: str,
    timeout: float,
    listener: socket.socket,
    tls: ssl.SSLContext | None,
) -> None:
    """One process, one thread, one loop: the per-VIN locks and the sessions live here."""
    import uvloop

    from voltgate.proxy.app import create_proxy
    from voltgate.proxy.server import serve

    app = create_proxy(signer, upstream, timeout=timeout)
    # Requests in flight get a command's own timeout to finish after SIGINT or SIGTERM.
    limits = Limits(shutdown_grace=timeout)
    lifespan = lambda: app.router.lifespan_context(app)  # noqa: E731
    uvloop.run(serve(app, listener, lifespan=lifespan, tls=tls, limits=limits))


def _bound(host: str, port: int) -> socket.socket:
    """The listening socket, or a clear line (not a traceback) when the address is taken."""
    try:
        return listen(host, port, Limits().backlog)
    except OSError as exc:
        remedy = "pick another --listen (4443 is the sandbox's Fleet Telemetry listener)"
        unavailable(host, port, exc, remedy)
