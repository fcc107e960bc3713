"""Connection limits on a live `voltgate serve`. With its default settings, 4,000 sockets that
send nothing and 200 that send their headers a few bytes at a time do not slow `/healthz`
(fresh or kept-alive connections), and the server closes every one of them once the header
timeout has passed, not before. It raises its open-file limit and says what it needs."""

from __future__ import annotations

import http.client
import math
import resource
import selectors
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures.live import free_port, live_server, server_env, voltgate_process
from voltgate.config import Settings

IDLE, SLOW, REQUESTS = 4_000, 200, 250  # REQUESTS each from fresh and from kept-alive connections
P99_BAR = 0.100
HEADER_TIMEOUT: float = Settings.model_fields["header_timeout"].default
# Time allowed past the header timeout for the server to close them all: generous, so that only
# a server that never closes them fails.
CLOSE_MARGIN = 10.0
OPEN_WITHIN = 15.0  # all 4,200 sockets connected (the server keeps completing handshakes)
# A request line and a header that never ends, sent 3 bytes every TRICKLE_EVERY seconds.
SLOW_PREFIX = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
TRICKLE_BYTES, TRICKLE_EVERY = 3, 0.5


@dataclass
class Held:
    """The idle and slow sockets, when each began to connect and when the server closed it (the
    server's header timer starts at accept, after the first)."""

    sockets: list[socket.socket] = field(default_factory=list)
    slow: set[socket.socket] = field(default_factory=set)
    connecting: dict[socket.socket, float] = field(default_factory=dict)
    closed: dict[socket.socket, float] = field(default_factory=dict)
    sent: dict[socket.socket, int] = field(default_factory=dict)
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    last_trickle: float = 0.0

    def open(self, port: int, deadline: float, *, slow: bool) -> None:
        connecting = time.monotonic()
        try:
            remaining = max(deadline - connecting, 0.001)
            sock = socket.create_connection(("127.0.0.1", port), timeout=remaining)
        except TimeoutError:
            pytest.fail(f"only {len(self.sockets)} sockets connected within {OPEN_WITHIN} s")
        self.connecting[sock] = connecting
        self.sockets.append(sock)
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)
        if slow:
            self.slow.add(sock)
            self.sent[sock] = 0
            self._send_more(sock)

    def _send_more(self, sock: socket.socket) -> None:
        start = self.sent[sock]
        chunk = (SLOW_PREFIX + b"a" * (start + TRICKLE_BYTES))[start : start + TRICKLE_BYTES]
        with suppress(OSError):  # closed by the server: the selector reports it
            self.sent[sock] += sock.send(chunk)

    def trickle(self) -> None:
        """The slow senders' next few bytes, when due."""
        if time.monotonic() - self.last_trickle < TRICKLE_EVERY:
            return
        self.last_trickle = time.monotonic()
        for sock in self.slow:
            if sock not in self.closed:
                self._send_more(sock)

    def watch(self, timeout: float) -> None:
        """Record the sockets the server has closed (a read answers end-of-file or reset)."""
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                if sock.recv(4096):
                    continue  # an answer before the close: the close follows
            except BlockingIOError:
                continue
            except OSError:
                pass
            self.closed[sock] = time.monotonic()
            self.selector.unregister(sock)

    def close(self) -> None:
        self.selector.close()
        for sock in self.sockets:
            sock.close()


@contextmanager
def _open_file_limit(needed: int) -> Iterator[None]:
    """This process's soft RLIMIT_NOFILE raised to `needed` for the test, then restored."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _healthz(conn: http.client.HTTPConnection) -> float:
    started = time.monotonic()
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    body = response.read()
    elapsed = time.monotonic() - started
    assert response.status == 200, body
    return elapsed


def _answers(port: int) -> bool:
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as conn:
        return _healthz(conn) >= 0


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


def test_idle_and_slow_sockets_neither_slow_healthz_nor_outlive_the_header_timeout(
    tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        stack.enter_context(_open_file_limit(IDLE + SLOW + 500))
        live = stack.enter_context(live_server(tmp_path / "data", tmp_path / "serve.log"))
        port = int(live.base_url.rsplit(":", 1)[1])
        held = Held()
        stack.callback(held.close)

        opening = time.monotonic() + OPEN_WITHIN
        for n in range(IDLE + SLOW):
            held.open(port, opening, slow=n >= IDLE)
        held.watch(0)
        assert not held.closed, f"{len(held.closed)} closed as soon as they connected"

        fresh: list[float] = []
        kept: list[float] = []
        keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        stack.callback(keep_alive.close)
        # Measured while every socket is open: before the first of them can time out.
        measuring_until = min(held.connecting.values()) + HEADER_TIMEOUT
        for _ in range(REQUESTS):
            assert time.monotonic() < measuring_until, f"only {len(kept)} rounds in time"
            held.trickle()
            with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as conn:
                started = time.monotonic()
                conn.connect()
                fresh.append(time.monotonic() - started + _healthz(conn))
            kept.append(_healthz(keep_alive))
        held.watch(0)
        assert not held.closed, f"{len(held.closed)} closed while /healthz was measured"
        print(
            f"/healthz beside {IDLE} idle + {SLOW} slow sockets: p99 fresh "
            f"{_p99(fresh) * 1000:.1f} ms, kept-alive {_p99(kept) * 1000:.1f} ms "
            f"(max {max(fresh) * 1000:.1f} / {max(kept) * 1000:.1f} ms)"
        )
        assert _p99(fresh) < P99_BAR and _p99(kept) < P99_BAR

        closed_by = max(held.connecting.values()) + HEADER_TIMEOUT + CLOSE_MARGIN
        while len(held.closed) < len(held.sockets) and time.monotonic() < closed_by:
            held.trickle()
            held.watch(TRICKLE_EVERY / 2)
        still_open = len(held.sockets) - len(held.closed)
        assert still_open == 0, f"{still_open} sockets open {HEADER_TIMEOUT + CLOSE_MARGIN} s on"
        lived = {sock: held.closed[sock] - held.connecting[sock] for sock in held.sockets}
        early = [life for life in lived.values() if life < HEADER_TIMEOUT]
        assert not early, f"{len(early)} closed before the header timeout, after {min(early)} s"
        print(f"closed by the server after {min(lived.values()):.2f}-{max(lived.values()):.2f} s")


def _logged(log: Path, event: str) -> dict[str, Any]:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and (entry := orjson.loads(line)).get("event") == event:
            assert isinstance(entry, dict)
            return entry
    raise AssertionError(f"no {event} in the log:\n{log.read_text(errors='replace')}")


def _open_files(soft: int, hard: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@contextmanager
def _serve(tmp_path: Path, *options: str, open_files: tuple[int, int]) -> Iterator[tuple[int, int]]:
    """`voltgate serve <options>` started under the given open-file limits; its port and pid."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), *options]
    env = server_env(tmp_path / "data")
    base = f"http://127.0.0.1:{port}"
    with voltgate_process(
        args, env, tmp_path / "serve.log", base, _open_files(*open_files)
    ) as process:
        yield port, process.pid


def _workers_open_file_limits(parent: int) -> list[int]:
    """The soft open-file limit of each of `parent`'s child processes (Linux /proc)."""
    limits = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                text = (stat.parent / "limits").read_text()
                limits.append(int(text.split("Max open files")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return limits


def test_serve_raises_its_open_file_limit_to_the_hard_limit(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    needed = Settings().max_connections + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs a hard open-file limit of {needed}; it is {hard}")
    raised = needed if hard == resource.RLIM_INFINITY else hard
    with _serve(tmp_path, open_files=(1024, hard)) as (port, pid):
        assert _answers(port)
        if Path("/proc").is_dir():  # the worker, which holds the connections, inherited it
            assert _workers_open_file_limits(pid) == [raised]
    got = _logged(tmp_path / "serve.log", "open_file_limit")
    assert got["max_connections"] == Settings().max_connections and got["limit"] == raised
    assert "open_file_limit_below_max_connections" not in (tmp_path / "serve.log").read_text()


def test_a_hard_limit_below_the_connections_lowers_them_with_a_warning(tmp_path: Path) -> None:
    with _serve(tmp_path, open_files=(1024, 2048)) as (port, _):
        assert _answers(port)
    log = tmp_path / "serve.log"
    got = _logged(log, "open_file_limit")
    assert got == {**got, "limit": 2048, "max_connections": 2048 - 256}
    warning = _logged(log, "open_file_limit_below_max_connections")
    assert warning["level"] == "warning" and warning["max_connections"] == 2048 - 256


def test_serve_options_set_the_limits(tmp_path: Path) -> None:
    """--header-timeout bounds a silent socket from accept and a kept-alive connection from its
    last response; one that keeps asking stays open past it."""
    timeout = 1.5
    with _serve(
        tmp_path,
        "--max-connections",
        "300",
        "--header-timeout",
        str(timeout),
        open_files=(1024, 4096),
    ) as (port, _):
        connecting = time.monotonic()
        with closing(socket.create_connection(("127.0.0.1", port), timeout=30)) as silent:
            assert silent.recv(4096) == b""  # closed by the server (the read waits until then)
            assert time.monotonic() - connecting >= timeout

        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=30)) as kept:
            kept.connect()
            first = kept.sock
            for _ in range(round(2 * timeout / 0.1)):  # twice the timeout, at least
                asked = time.monotonic()
                assert _healthz(kept) >= 0
                time.sleep(0.1)  # a client's pace, well inside the timeout
            assert kept.sock is first is not None  # one connection answered them all
            assert first.recv(4096) == b""  # the timer starts after the last response
            assert time.monotonic() - asked >= timeout
    assert _logged(tmp_path / "serve.log", "open_file_limit")["max_connections"] == 300
