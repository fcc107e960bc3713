"""`voltgate sandbox`'s terminal: what it printed stays readable while the sandbox runs.

By default the server's log (JSON lines, one a request) goes to `<data dir>/sandbox.log` and only
warnings and errors also to the terminal; `--log-level info` shows every request there too,
after what the sandbox printed, never in the middle of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.live import free_port, server_env, voltgate_process

FIRST, LAST = "voltgate sandbox on ", "Ctrl-C stops the sandbox"


@dataclass
class Run:
    base_url: str
    creds: dict[str, Any]
    console: Path  # stdout and stderr, as a terminal shows them
    log: Path  # <data dir>/sandbox.log


@contextmanager
def _sandbox(tmp_path: Path, *options: str, fleet: int = 1) -> Iterator[Run]:
    """`voltgate sandbox` with `fleet` public chargers (and the home one), ready on entry."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    creds = tmp_path / "creds.json"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", str(fleet)]
    args += ["--credentials-out", str(creds), *options]
    console, data = tmp_path / "console.txt", tmp_path / "data"
    with voltgate_process(args, server_env(data), console, base):
        yield Run(base, orjson.loads(creds.read_bytes()), console, data / "sandbox.log")


def _until(found: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not found():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _requests(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith('{"event":"request"')]


def _printed(creds: dict[str, Any]) -> list[str]:
    user, app = creds["users"][0], creds["third_party_app"]
    return [creds["operator"]["client_secret"], user["password"], app["client_secret"]]


def test_the_terminal_keeps_the_printed_credentials_and_the_log_goes_to_the_data_dir(
    tmp_path: Path,
) -> None:
    with _sandbox(tmp_path) as run:
        # The chargers are talking to it: a few seconds of requests are in the log file.
        _until(lambda: len(_requests(run.log.read_text())) >= 5)
        _until(lambda: f"Ready: {run.base_url} is answering." in run.console.read_text())
        console = run.console.read_text()

    lines = console.splitlines()
    assert lines[0].startswith(FIRST), console
    for secret in _printed(run.creds):
        assert secret in console
    assert f"Server log: {run.log} (here: warning and above" in console
    assert any(line.startswith(LAST) for line in lines), console
    # Nothing of the server's log on the terminal: no JSON line at all, before, in or after.
    assert not [line for line in lines if line.lstrip().startswith("{")], console
    log = run.log.read_text().splitlines()
    assert all(orjson.loads(line)["level"] for line in log)
    assert any(orjson.loads(line)["event"] == f"Listening at: {run.base_url}" for line in log)


def test_log_level_info_shows_every_request_after_what_the_sandbox_printed(
    tmp_path: Path,
) -> None:
    with _sandbox(tmp_path, "--log-level", "info") as run:
        _until(lambda: len(_requests(run.console.read_text())) >= 5)
        console = run.console.read_text()

    lines = console.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(FIRST))
    last = next(i for i, line in enumerate(lines) if line.startswith(LAST))
    block = lines[first : last + 1]
    assert not [line for line in block if line.startswith("{")], block
    for secret in _printed(run.creds):
        assert secret in "\n".join(block)
    assert _requests("\n".join(lines[last:]))
    # The file has them as well.
    assert len(_requests(run.log.read_text())) >= 5


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed lines need curl")
def test_the_printed_operator_token_line_works_in_a_shell(tmp_path: Path) -> None:
    with _sandbox(tmp_path, fleet=0) as run:
        line = next(
            line.strip()
            for line in run.console.read_text().splitlines()
            if line.strip().startswith("export TOKEN=")
        )
        script = f'{line}\ncurl -s -H "Authorization: Bearer $TOKEN" {run.base_url}/v1/me'
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)

    assert done.returncode == 0, done
    assert orjson.loads(done.stdout)["client_id"] == run.creds["operator"]["client_id"]


def test_a_telemetry_listener_that_does_not_start_stops_the_sandbox_before_ready(
    tmp_path: Path,
) -> None:
    ca = tmp_path / "ca"
    ca.mkdir()
    (ca / "ca.pem").write_text("not a certificate\n")  # the listener cannot open its CA
    env = server_env(tmp_path / "data", telemetry_ca_dir=str(ca))
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(free_port()), "--fleet", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "voltgate", *args],
        env={**env, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1, done
    assert "Ready" not in done.stdout + done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "error: the Fleet Telemetry listener did not start (exit 1"
    )
