"""The proxy's own HTTP/1.1 server on 127.0.0.1: kept-alive and pipelined requests, bodies by
length and chunked, its caps (head 431, body 413), malformed requests (400, no traceback), the
header timeout, the connection cap, TLS, and a clean stop with a request in flight."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import ipaddress
import logging
import os
import signal
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.live import free_port, voltgate_process
from voltgate.proxy.app import ProxyApp, create_proxy
from voltgate.proxy.server import App, Limits, listen, serve, tls_context
from voltgate.sdk.vehicle_command import Signer, generate_private_key, private_key_pem

VIN = "5YJ3E1EA7KF000001"
Message = dict[str, Any]


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, answers what it got."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    answer = orjson.dumps(
        {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


def _proxy_app() -> ProxyApp:
    """The real proxy, its Fleet API a stand-in that lists one vehicle to anyone."""

    def fleet_api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"response": [{"vin": VIN}], "count": 1})

    signer = Signer(generate_private_key())
    return create_proxy(signer, "https://fleet-api.test", transport=httpx.MockTransport(fleet_api))


@contextlib.asynccontextmanager
async def _serving(
    app: App, limits: Limits = Limits(), tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    listener = listen("127.0.0.1", 0, 128)
    port: int = listener.getsockname()[1]
    stop = asyncio.Event()
    lifespan = (lambda: app.router.lifespan_context(app)) if isinstance(app, ProxyApp) else None
    task = asyncio.create_task(
        serve(app, listener, lifespan=lifespan, tls=tls, limits=limits, stop=stop)
    )
    try:
        yield port
    finally:
        stop.set()
        await task


async def _connect(
    port: int, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host = "127.0.0.1"
    return await asyncio.open_connection(host, port, ssl=tls, server_hostname=tls and host)


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One answer with a Content-Length body (what every app here sends)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """Everything until the server closes the connection (bounded, so a test cannot hang)."""
    return await asyncio.wait_for(reader.read(), 30)


def _post(path: str, body: bytes, *extra: bytes) -> bytes:
    head = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: proxy", *extra]
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _chunked(path: str, pieces: list[bytes], *extra: bytes) -> bytes:
    head = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: proxy", *extra]
    head.append(b"Transfer-Encoding: chunked")
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def test_a_kept_alive_connection_answers_requests_in_order_pipelined_or_not() -> None:
    async with _serving(_echo) as port:
        reader, writer = await _connect(port)
        writer.write(_post("/one?x=1", b"a" * 100))
        status, _, body = await _response(reader)
        assert status == 200
        assert orjson.loads(body)["path"] == "/one" and orjson.loads(body)["query"] == "x=1"
        # Three at once, the second chunked: three answers on the same connection, in order.
        writer.write(
            b"GET /two HTTP/1.1\r\nHost: proxy\r\n\r\n"
            + _chunked("/three", [b"b" * 10, b"c" * 70_000])
            + _post("/four", b"d" * 5, b"Connection: close")
        )
        answers = [orjson.loads((await _response(reader))[2]) for _ in range(3)]
        assert [a["path"] for a in answers] == ["/two", "/three", "/four"]
        assert answers[1]["length"] == 70_010
        assert answers[1]["sha256"] == hashlib.sha256(b"b" * 10 + b"c" * 70_000).hexdigest()
        assert await _closed(reader) == b""  # the last asked to close
        writer.close()


async def test_a_client_waiting_for_100_continue_gets_it_and_head_gets_no_body() -> None:
    async with _serving(_echo) as port:
        reader, writer = await _connect(port)
        writer.write(
            b"POST /e HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 ")
        writer.write(b"xyz")
        status, _, body = await _response(reader)
        assert status == 200 and orjson.loads(body)["length"] == 3
        writer.write(b"HEAD /h HTTP/1.1\r\nHost: p\r\n\r\nGET /g HTTP/1.1\r\nHost: p\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        status, _, body = await _response(reader)  # straight after the head: no body between
        assert status == 200 and orjson.loads(body)["path"] == "/g"
        writer.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: p\r\nNo colon here\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: p\r\nContent-Length: nope\r\n\r\n",
        _chunked(
            f"/api/1/vehicles/{VIN}/command/honk_horn", [], b"Authorization: Bearer t"
        ).replace(b"0\r\n\r\n", b"zz\r\nab\r\n0\r\n\r\n"),
        b"GET http://elsewhere.test/healthz HTTP/1.1\r\nHost: p\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # TLS spoken to plain HTTP
    ],
)
async def test_a_malformed_request_is_a_400_and_the_connection_closes(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with _serving(_proxy_app()) as port:
        reader, writer = await _connect(port)
        writer.write(raw)
        answer = await _closed(reader)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"connection: close" in answer.lower()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_head_over_the_cap_is_a_431_whole_or_still_coming() -> None:
    async with _serving(_echo, Limits(max_head=4_096)) as port:
        for raw in (
            b"GET / HTTP/1.1\r\nHost: p\r\nX-Big: " + b"a" * 5_000 + b"\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: p\r\nX-Big: " + b"a" * 50_000,  # never ends
        ):
            reader, writer = await _connect(port)
            writer.write(raw)
            answer = await _closed(reader)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        reader, writer = await _connect(port)  # a head under the cap is served
        writer.write(b"GET / HTTP/1.1\r\nHost: p\r\nX-Big: " + b"a" * 3_000 + b"\r\n\r\n")
        assert (await _response(reader))[0] == 200
        writer.close()


async def test_a_body_past_the_servers_cap_is_a_413_by_length_or_chunked() -> None:
    async with _serving(_echo, Limits(max_body=10_000)) as port:
        for raw in (
            _post("/big", b"x" * 20_000),
            _chunked("/big", [b"x" * 4_000] * 5),
        ):
            reader, writer = await _connect(port)
            writer.write(raw)
            answer = await _closed(reader)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        reader, writer = await _connect(port)
        writer.write(_chunked("/fits", [b"x" * 4_000] * 2))
        status, _, body = await _response(reader)
        assert status == 200 and orjson.loads(body)["length"] == 8_000
        writer.close()


async def test_the_proxys_own_answer_to_a_body_over_1_mib_is_unchanged() -> None:
    """The proxy reads its bodies itself: over 1 MiB is its documented 400 invalid_command,
    declared or chunked, before the server's cap would answer."""
    path = f"/api/1/vehicles/{VIN}/command/honk_horn"
    token = b"Authorization: Bearer t"
    async with _serving(_proxy_app()) as port:
        for raw in (
            _post(path, b"{}", token).replace(b"Content-Length: 2", b"Content-Length: 2000000"),
            _chunked(path, [b" " * 65_536] * 17, token),
        ):
            reader, writer = await _connect(port)
            writer.write(raw)
            status, _, body = await _response(reader)
            writer.close()
            assert status == 400
            assert orjson.loads(body)["error"] == "invalid_command"
            assert "over 1048576 bytes" in orjson.loads(body)["error_description"]
        # An answer before the body was read (no token) keeps the connection: the rest is read.
        reader, writer = await _connect(port)
        writer.write(
            _post(path, b"{}" + b" " * 30_000) + b"GET /healthz HTTP/1.1\r\nHost: p\r\n\r\n"
        )
        status, _, body = await _response(reader)
        assert status == 401 and orjson.loads(body)["error"] == "missing_token"
        assert (await _response(reader))[:1] == (200,)
        writer.close()


async def test_silent_idle_and_slow_sockets_are_closed_after_the_header_timeout() -> None:
    async with _serving(_echo, Limits(header_timeout=0.3)) as port:
        silent = await _connect(port)
        slow = await _connect(port)
        slow[1].write(b"GET / HTTP/1.1\r\nHost: p\r\nX-Slow: ")  # and never the rest
        idle = await _connect(port)
        idle[1].write(b"GET / HTTP/1.1\r\nHost: p\r\n\r\n")
        assert (await _response(idle[0]))[0] == 200  # then nothing more on it
        for reader, writer in (silent, slow, idle):
            assert await _closed(reader) == b""
            writer.close()


async def test_connections_past_the_cap_wait_until_one_closes() -> None:
    async with _serving(_echo, Limits(max_connections=1)) as port:
        first = await _connect(port)
        first[1].write(b"GET /first HTTP/1.1\r\nHost: p\r\n\r\n")
        assert (await _response(first[0]))[0] == 200
        second = await _connect(port)  # the kernel's listen queue takes it
        second[1].write(b"GET /second HTTP/1.1\r\nHost: p\r\n\r\n")
        first[1].write(b"GET /first HTTP/1.1\r\nHost: p\r\n\r\n")
        assert (await _response(first[0]))[0] == 200  # the held connection is still served
        first[1].close()
        status, _, body = await _response(second[0])
        assert status == 200 and orjson.loads(body)["path"] == "/second"
        second[1].close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voltgate proxy test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_the_proxy_over_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    client = ssl.create_default_context(cafile=str(cert))
    async with _serving(_proxy_app(), tls=tls_context(cert, key)) as port:
        reader, writer = await _connect(port, client)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: proxy\r\n\r\n")
        assert await _response(reader) == (
            200,
            {"content-length": "15", "content-type": "application/json"},
            b'{"status":"ok"}',
        )
        writer.write(
            b"GET /api/1/vehicles HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer t\r\n\r\n"
        )
        status, _, body = await _response(reader)  # forwarded, on the same TLS connection
        assert status == 200 and orjson.loads(body)["response"] == [{"vin": VIN}]
        writer.close()
        # Plain HTTP to the TLS port is not served (the handshake fails, the socket closes).
        reader, writer = await _connect(port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: proxy\r\n\r\n")
        assert b"200" not in await _closed(reader)
        writer.close()


async def test_a_stop_lets_a_request_in_flight_finish_and_closes_idle_connections() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            entered.set()
            await release.wait()
        await _echo(scope, receive, send)

    listener = listen("127.0.0.1", 0, 128)
    port = listener.getsockname()[1]
    stop = asyncio.Event()
    served = asyncio.create_task(serve(slow, listener, stop=stop))
    idle = await _connect(port)
    idle[1].write(b"GET /quick HTTP/1.1\r\nHost: p\r\n\r\n")
    assert (await _response(idle[0]))[0] == 200
    busy = await _connect(port)
    busy[1].write(b"GET /slow HTTP/1.1\r\nHost: p\r\n\r\n")
    await entered.wait()
    stop.set()
    assert await _closed(idle[0]) == b""  # waiting for a request: closed at once
    release.set()
    status, headers, _ = await _response(busy[0])
    assert status == 200 and headers["connection"] == "close"
    assert await _closed(busy[0]) == b""
    await served
    for _, writer in (idle, busy):
        writer.close()


def test_voltgate_proxy_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    key = tmp_path / "app-key.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    args = ["proxy", "--key", str(key), "--upstream", "http://127.0.0.1:9", "--listen", url[7:]]
    log = tmp_path / "proxy.log"
    with voltgate_process(
        args,
        {k: v for k, v in os.environ.items() if not k.startswith("VOLTGATE_")},
        log,
        ready=ready,
    ) as process:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert "Traceback" not in log.read_text()
