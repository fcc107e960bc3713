"""A request body is read bounded: a Content-Length past the cap is refused before a byte is
read, a streamed body as soon as the message that takes it past arrives; by `RawRequest.body`
(the router's routes) and by `BodyCap` whatever reads it behind (Starlette's `body()` and
`stream()`, which its `json()` and `form()` read through)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, Router

from tests.fixtures.bodies import StreamedPost
from voltgate.errors import PayloadTooLarge
from voltgate.http import fallback
from voltgate.http.request import BodyCap, RawRequest

CAP = 4096
CHUNK = 1000


def _post(size: int, *, declared: bool) -> StreamedPost:
    return StreamedPost("/form", size, declared=declared, chunk=CHUNK)


def _raw(client: StreamedPost) -> RawRequest:
    return RawRequest({"method": "POST", "headers": client.headers}, client.receive)


# -- RawRequest.body: what every route on the route table reads through -------------------


async def test_a_declared_length_past_the_limit_is_refused_unread() -> None:
    client = _post(CAP + 1, declared=True)
    with pytest.raises(PayloadTooLarge, match=f"exceeds {CAP} bytes"):
        await _raw(client).body(CAP)
    assert client.pulled == 0


async def test_a_streamed_body_is_cut_by_the_message_that_passes_the_limit() -> None:
    client = _post(64 * CHUNK, declared=False)
    with pytest.raises(PayloadTooLarge):
        await _raw(client).body(CAP)
    assert client.pulled == CAP // CHUNK + 1  # 5 messages: 4,000 bytes fit, 5,000 do not


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_of_exactly_the_limit_is_read_whole(declared: bool) -> None:
    client = _post(CAP, declared=declared)
    body = await _raw(client).body(CAP)
    assert len(body) == CAP


# -- BodyCap: the pages' cap, below Starlette's own readers ---------------------------------

Reader = Callable[[Request], Awaitable[Response]]


async def _body(request: Request) -> Response:
    return PlainTextResponse(str(len(await request.body())))


async def _stream(request: Request) -> Response:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return PlainTextResponse(str(size))


# Starlette's json() and form() read through body() and stream() (form() needs
# python-multipart, which voltgate does not install: pages parse forms with http.body).
READERS = pytest.mark.parametrize("reader", [_body, _stream])


async def _serve(reader: Reader, client: StreamedPost) -> None:
    """`reader` as a page is served: Starlette routes behind the cap, errors by the fallback."""
    pages = Router([Route("/form", reader, methods=["POST"])])
    await client.to(ExceptionMiddleware(BodyCap(pages, CAP), handlers=fallback.HANDLERS))


@READERS
async def test_a_page_is_refused_a_declared_length_past_its_cap_unread(reader: Reader) -> None:
    client = _post(CAP + 1, declared=True)
    await _serve(reader, client)
    assert (client.status, client.pulled) == (413, 0)
    assert client.json() == {
        "error": "invalid_request",
        "error_description": f"request body exceeds {CAP} bytes",
        "code": 1001,
        "message": f"request body exceeds {CAP} bytes",
    }


@READERS
async def test_a_page_reading_a_streamed_body_is_cut_at_its_cap(reader: Reader) -> None:
    client = _post(64 * CHUNK, declared=False)
    await _serve(reader, client)
    assert (client.status, client.pulled) == (413, CAP // CHUNK + 1)
    assert client.json()["code"] == 1001


@READERS
async def test_a_page_reads_a_body_of_exactly_its_cap(reader: Reader) -> None:
    for declared in (True, False):
        client = _post(CAP, declared=declared)
        await _serve(reader, client)
        assert client.status == 200
        assert int(client.body) == CAP
