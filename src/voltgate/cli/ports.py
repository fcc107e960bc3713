"""A port a command is about to listen on, checked first: one clear line when it is taken."""

from __future__ import annotations

import socket
from typing import NoReturn

from voltgate.cli.common import fail


def unavailable(host: str, port: int, exc: OSError, remedy: str) -> NoReturn:
    reason = (exc.strerror or str(exc)).lower()
    fail(f"cannot listen on {host}:{port}: {reason}; {remedy}")


def ensure_free(host: str, port: int, remedy: str) -> None:
    """Fail unless `host:port` can be bound. The probe sets SO_REUSEADDR (a closed connection
    in TIME_WAIT is no obstacle) but not SO_REUSEPORT: granian sets it, so a second server
    would share the first one's port without a word, while this bind fails."""
    if port == 0:
        return  # any free port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as exc:
        unavailable(host, port, exc, remedy)
