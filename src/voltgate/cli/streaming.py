"""What the sandbox runs for Fleet Telemetry beside its server: the vehicles' CA (made on first
start), the listener (`voltgate telemetry serve`) and the streaming vehicles (`voltgate sim
vehicles`), each a child process stopped with the sandbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from voltgate.cli.ports import ensure_free
from voltgate.config import Settings
from voltgate.fleettelemetry.ca import CA_CERT_FILE, CertificateAuthority


def ensure_ca(config: Settings) -> None:
    """The vehicles' CA in the data directory, made unless it is there."""
    directory = config.resolved_telemetry_ca_dir
    if not (directory / CA_CERT_FILE).exists():
        CertificateAuthority.init(directory, config.master_key_bytes())


# Where a listener bound to every address answers a connection from this machine.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - not bound
_PORT_SETTING = "VOLTGATE_TELEMETRY_PORT moves it"


def ensure_listener_port_free(config: Settings) -> None:
    ensure_free(config.telemetry_host, config.telemetry_port, _PORT_SETTING)


def listener_url(config: Settings) -> str:
    return f"wss://{config.telemetry_hostname}:{config.telemetry_port}/"


def start_listener(config: Settings) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "voltgate", "telemetry", "serve"]
    # The sandbox stays on the embedded default: it runs no writers for a NATS stream.
    env = {k: v for k, v in os.environ.items() if k != "VOLTGATE_NATS_URL"}
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env)  # noqa: S603 - our own argv


def start_vehicles(config: Settings) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "voltgate", "sim", "vehicles", "--url", listener_url(config)]
    command += ["--parent-pid", str(os.getpid())]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own argv


def wait_listening(
    config: Settings, listener: subprocess.Popen[bytes], timeout: float = 120
) -> bool:
    """Whether the listener accepts connections on its port (within `timeout` seconds); False
    as soon as it exits. Its port was free when the sandbox started, so what answers is it."""
    host = _WILDCARDS.get(config.telemetry_host, config.telemetry_host)
    deadline = time.monotonic() + timeout
    while listener.poll() is None and time.monotonic() < deadline:
        if config.telemetry_port == 0:
            return True  # any free port: nothing to ask
        try:
            socket.create_connection((host, config.telemetry_port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return True
    return False
