"""What the sandbox runs for Fleet Telemetry beside its server: the vehicles' CA (made on first
start), the listener (`voltgate telemetry serve`) and the streaming vehicles (`voltgate sim
vehicles`), each a child process stopped with the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys

from voltgate.config import Settings
from voltgate.fleettelemetry.ca import CA_CERT_FILE, CertificateAuthority


def ensure_ca(config: Settings) -> None:
    """The vehicles' CA in the data directory, made unless it is there."""
    directory = config.resolved_telemetry_ca_dir
    if not (directory / CA_CERT_FILE).exists():
        CertificateAuthority.init(directory, config.master_key_bytes())


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
