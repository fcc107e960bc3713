"""A real server refuses a 256 MiB body with 413 while it arrives, and its memory stays flat.

Each upload is streamed from a generator over a plain socket, chunked or with its length
declared; the client stops sending as soon as the answer's head arrives. Only a 413 counts as
refused: a connection closed without one fails (a worker the kernel killed closes it too). The
server's memory is the peak resident set (VmHWM, reset through /proc/<pid>/clear_refs before
the uploads) of the `voltgate serve` process and its children (granian's worker is one), so
growth between two samples cannot slip by.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live import LiveServer, live_server
from tests.live.support import access_token

TOTAL = 256 << 20
PIECE = 64 << 10
GROWTH_KB = 20 << 10  # 20 MB
DEADLINE = 30.0  # seconds per upload; a server reading all of it needed ~5 s on 2 vCPUs
FORM = "application/x-www-form-urlencoded"
ROUTES = ("/login", "/v1/device/register", "/v1/operator/sites", "/oauth/token")


@dataclass
class Upload:
    status: int | None  # the answer's status, if its head arrived
    sent: int  # bytes written after the head, before the answer (or a reset)
    seconds: float


def _pieces(chunked: bool) -> Iterator[bytes]:
    """TOTAL bytes of form body (`a=xxx…`), PIECE at a time, framed if `chunked`."""
    for offset in range(0, TOTAL, PIECE):
        piece = (b"a=" + b"x" * (PIECE - 2)) if offset == 0 else b"x" * PIECE
        yield b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


def _upload(port: int, path: str, token: str | None, *, chunked: bool) -> Upload:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {FORM}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {TOTAL}")
    if token is not None:
        head.append(f"Authorization: Bearer {token}")
    started = time.monotonic()
    received, sent, pending = b"", 0, b""
    pieces = _pieces(chunked)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        while b"\r\n\r\n" not in received and time.monotonic() - started < DEADLINE:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            try:
                if readable:
                    data = sock.recv(65536)
                    if not data:
                        break  # closed without (the rest of) an answer
                    received += data
                elif writable:
                    pending = pending or next(pieces, b"")
                    if pending:
                        written = sock.send(pending)
                        sent, pending = sent + written, pending[written:]
            except (BrokenPipeError, ConnectionResetError):
                # Closed by the server: the answer it wrote before, if any, is still readable.
                sock.setblocking(True)
                sock.settimeout(2)
                with contextlib.suppress(OSError):
                    received += sock.recv(65536)
                break
    status = None
    if received.startswith(b"HTTP/1.1 ") and b"\r\n" in received:
        status = int(received.split(b" ", 2)[1])
    return Upload(status, sent, time.monotonic() - started)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in os.listdir(f"/proc/{current}/task"):
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except FileNotFoundError:
                continue  # a thread that ended meanwhile (granian's blocking pool shrinks)
            todo.extend(int(child) for child in children)
    return sorted(found)


def _kb(pids: list[int], field: str) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc (clear_refs, VmHWM) to measure the server's peak memory")
    with live_server(tmp_path / "data", tmp_path / "server.log") as live:
        yield live


def test_a_256_mib_body_is_refused_while_memory_stays_flat(server: LiveServer) -> None:
    assert server.process is not None
    port = int(server.base_url.rsplit(":", 1)[1])
    creds = server.create_client("operator", "read write")
    token = access_token(server.base_url, creds["client_id"], creds["client_secret"])
    tokens = {"/v1/operator/sites": token}
    for path in ROUTES:  # warm each route up with a small body: first-use costs are not growth
        auth = {"Authorization": f"Bearer {tokens[path]}"} if path in tokens else {}
        headers = {"Content-Type": FORM, **auth}
        httpx.post(f"{server.base_url}{path}", content=b"a=b", headers=headers, timeout=10)
    pids = _tree(server.process.pid)
    assert len(pids) >= 2, "granian's worker process was not found"
    baseline = _kb(pids, "VmRSS")
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    seen = []
    for path in ROUTES:
        for chunked in (False, True):
            upload = _upload(port, path, tokens.get(path), chunked=chunked)
            growth = _kb(pids, "VmHWM") - baseline
            seen.append(f"{path} {'chunked' if chunked else 'declared'}: {upload}, +{growth} kB")
            assert upload.status == 413, seen
            assert upload.sent < TOTAL // 4, seen  # answered long before the body was through
    assert _tree(server.process.pid) == pids, "a worker was replaced (killed?) during the uploads"
    peak = _kb(pids, "VmHWM") - baseline
    print("\n".join(seen))
    assert peak < GROWTH_KB, seen
