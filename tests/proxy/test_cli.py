"""`voltgate proxy` refuses what it cannot run with in one line, before it serves."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from voltgate.sdk.vehicle_command import generate_private_key, private_key_pem


def _proxy(*args: str) -> tuple[int, str]:
    """Its exit status and what it printed, lines joined (the console wraps them)."""
    done = subprocess.run(
        [sys.executable, "-m", "voltgate", "proxy", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, " ".join(done.stderr.split())


def test_a_taken_port_a_path_in_the_upstream_and_a_public_key_are_one_line_each(
    tmp_path: Path,
) -> None:
    key = tmp_path / "private-key.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = _proxy(
            "--key", str(key), "--upstream", "http://127.0.0.1:9", "--listen", f"127.0.0.1:{port}"
        )
    assert busy[0] != 0
    assert f"cannot listen on 127.0.0.1:{port}" in busy[1] and "Traceback" not in busy[1]
    pathed = _proxy("--key", str(key), "--upstream", "http://127.0.0.1:9/api/1")
    assert pathed[0] != 0 and "without a path" in pathed[1]
    public = tmp_path / "public-key.pem"
    public.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    wrong = _proxy("--key", str(public), "--upstream", "http://127.0.0.1:9")
    assert wrong[0] != 0 and "is not a P-256 private key" in wrong[1]
