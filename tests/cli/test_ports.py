"""A command whose port is taken says so in one line and exits non-zero, before it builds or
prints anything: `serve`, `sandbox` (its server's and its Fleet Telemetry listener's ports),
`telemetry serve` and `pulse`."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer

from tests.fixtures.live import server_env
from voltgate.cli.ports import ensure_free


@contextmanager
def _taken() -> Iterator[int]:
    """A free 127.0.0.1 port, listened on with SO_REUSEPORT as granian listens."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def _voltgate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**env, "COLUMNS": "400"}  # the error console wraps at 80 columns otherwise
    return subprocess.run(
        [sys.executable, "-m", "voltgate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str], port: int) -> str:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}: address already in use; ")
    return line


def test_the_probe_fails_where_a_second_reuseport_server_would_share_the_port() -> None:
    with _taken() as port:
        with socket.socket() as second:  # what a second granian would do, unnoticed
            second.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            second.bind(("127.0.0.1", port))
        with pytest.raises(typer.Exit) as exited:
            ensure_free("127.0.0.1", port, "pick another --port")
        assert exited.value.exit_code == 1
    ensure_free("127.0.0.1", port, "pick another --port")  # free again


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with _taken() as port:
        done = _voltgate(server_env(tmp_path / "data"), "serve", "--port", str(port))
    assert "another --port" in _one_line(done, port)


def test_sandbox_on_a_taken_port_stops_before_it_builds_or_prints_anything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "sandbox.log").write_text("the running sandbox's log\n")
    with _taken() as port:
        done = _voltgate(server_env(data), "sandbox", "--port", str(port))
    assert "another --port" in _one_line(done, port)
    assert done.stdout == ""  # no credentials, no "Ready"
    assert sorted(p.name for p in data.iterdir()) == ["sandbox.log"]  # no world
    assert (data / "sandbox.log").read_text() == "the running sandbox's log\n"


def test_sandbox_with_the_telemetry_port_taken_names_the_setting_that_moves_it(
    tmp_path: Path,
) -> None:
    with _taken() as busy, socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        free = spare.getsockname()[1]
        spare.close()
        env = server_env(tmp_path / "data", telemetry_port=str(busy))
        done = _voltgate(env, "sandbox", "--port", str(free))
    assert _one_line(done, busy).endswith("VOLTGATE_TELEMETRY_PORT moves it")
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()


def test_telemetry_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with _taken() as port:
        done = _voltgate(server_env(tmp_path / "data"), "telemetry", "serve", "--port", str(port))
    assert "VOLTGATE_TELEMETRY_PORT" in _one_line(done, port)


def test_pulse_on_a_taken_port_is_one_line_and_prints_no_url(tmp_path: Path) -> None:
    args = ["pulse", "--client-id", "vgc_x", "--client-secret", "vgcs_x", "--server"]
    args += ["http://127.0.0.1:9", "--data-dir", str(tmp_path / "pulse")]
    with _taken() as port:
        done = _voltgate(server_env(tmp_path / "data"), *args, "--port", str(port))
    assert "another --port" in _one_line(done, port)
    assert done.stdout == ""
