"""The router: exact and templated paths, method handling, validation messages, errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field

from voltgate.clock import SystemClock
from voltgate.errors import RESOURCE_ERRORS, InvalidToken, NotFound
from voltgate.http.dispatch import Binding, Router
from voltgate.http.guards import Guard
from voltgate.http.kept import Kept
from voltgate.http.routing import Body, Call, Limiter, RouteTable
from voltgate.identity.guard import Principal
from voltgate.identity.tokens import AccessClaims
from voltgate.metrics.requests import Requests


class _Auth:
    async def authenticate(self, authorization: str | None) -> Principal:
        if authorization != "Bearer good":
            raise InvalidToken("no")
        claims = AccessClaims(
            subject="s",
            client_id="c",
            kind="operator",
            scopes=frozenset({"read"}),
            scope="read",
            issued_at=0,
            expires_at=1,
            jti="j",
            raw={},
        )
        return Principal(claims)


async def _no_signatures(*_args: Any, **_kwargs: Any) -> bool:
    return False


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=5)


class Page(BaseModel):
    page: int = Field(default=1, ge=1, le=10)


async def _fallback(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b"fallback"})


def _client() -> httpx.AsyncClient:
    table = RouteTable().scope(errors=RESOURCE_ERRORS)

    async def one(call: Call[None, None, None]) -> dict[str, Any]:
        return {"id": call.params["item"]}

    async def special(call: Call[None, None, None]) -> dict[str, Any]:
        return {"special": True}

    async def listing(call: Call[None, Page, None]) -> dict[str, Any]:
        return {"page": call.query.page}

    async def create(call: Call[None, None, Item]) -> dict[str, Any]:
        return {"name": call.body.name, "caller": call.principal.claims.client_id}

    async def missing(call: Call[None, None, None]) -> None:
        raise NotFound("nothing here")

    table.get("/items/{item}", one)
    table.get("/items/special", special)
    table.get("/items", listing, query=Page)
    table.post("/items", create, body=Body.json(Item), guard=Guard(scopes=("read",)), status=201)
    table.get("/missing", missing, failures=(404,))

    async def size(call: Call[None, None, bytes]) -> dict[str, Any]:
        return {"size": len(call.body)}

    table.post("/raw", size, body=Body.raw())
    table.post("/raw/small", size, body=Body.raw(max_bytes=40))
    table.post("/raw/large", size, body=Body.raw(max_bytes=1000))
    binding = Binding(_Auth(), _no_signatures, Limiter(), 100, SystemClock(), Kept())
    router = Router(table, binding, _fallback)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=router), base_url="http://t")


async def test_exact_paths_win_over_templates_and_params_are_passed() -> None:
    async with _client() as http:
        assert (await http.get("/items/special")).json() == {"special": True}
        assert (await http.get("/items/abc")).json() == {"id": "abc"}
        assert (await http.get("/items/abc/more")).status_code == 418  # not ours
        assert (await http.get("/items/")).status_code == 418  # an empty segment is no id


async def test_methods_allow_options_and_head() -> None:
    async with _client() as http:
        refused = await http.put("/items/abc")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
        options = await http.options("/items")
        assert options.status_code == 204
        assert options.headers["allow"] == "GET, POST, HEAD, OPTIONS"
        head = await http.head("/items/abc")
        assert head.status_code == 200 and head.content == b""


async def test_query_and_body_are_validated_with_their_place_named() -> None:
    async with _client() as http:
        assert (await http.get("/items", params={"page": "3"})).json() == {"page": 3}
        huge = await http.get("/items", params={"page": "4611686018427387904"})
        assert huge.status_code == 400
        assert huge.json()["message"].startswith("query.page:")
        auth = {"authorization": "Bearer good"}
        made = await http.post("/items", json={"name": "ok"}, headers=auth)
        assert made.status_code == 201 and made.json() == {"name": "ok", "caller": "c"}
        extra = await http.post("/items", json={"name": "ok", "nmae": 1}, headers=auth)
        assert extra.status_code == 400 and extra.json()["message"].startswith("nmae:")
        broken = await http.post("/items", content=b"{", headers=auth)
        assert broken.json()["message"] == "the body is not valid JSON"
        form = await http.post(
            "/items", content=b"name=x", headers={**auth, "content-type": "text/plain"}
        )
        assert form.status_code == 415
        large = await http.post("/items", json={"name": "x" * 200}, headers=auth)
        assert large.status_code == 413


@pytest.mark.parametrize(("path", "cap"), [("/raw", 100), ("/raw/small", 40), ("/raw/large", 100)])
async def test_a_route_may_declare_a_lower_body_cap_never_a_higher_one(path: str, cap: int) -> None:
    async with _client() as http:  # the server's cap: 100 bytes
        assert (await http.post(path, content=b"x" * cap)).json() == {"size": cap}
        over = await http.post(path, content=b"x" * (cap + 1))
        assert over.status_code == 413
        assert over.json()["message"] == f"request body exceeds {cap} bytes"


@pytest.mark.parametrize("header", [None, "Bearer bad"])
async def test_the_guard_runs_before_the_body_is_read(header: str | None) -> None:
    async with _client() as http:
        headers = {} if header is None else {"authorization": header}
        answer = await http.post("/items", content=b"not json", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_errors_render_in_the_route_format() -> None:
    async with _client() as http:
        answer = await http.get("/missing")
        assert answer.status_code == 404
        assert answer.json() == {
            "error": "not_found",
            "error_description": "nothing here",
            "code": 3001,
            "message": "nothing here",
        }


async def test_each_answer_is_measured_once_by_its_route_template_a_crash_as_a_bare_500() -> None:
    requests = Requests()
    table = RouteTable().scope(errors=RESOURCE_ERRORS, dialect="tellus")

    async def one(call: Call[None, None, None]) -> dict[str, Any]:
        return {"id": call.params["item"]}

    async def crash(call: Call[None, None, None]) -> None:
        raise RuntimeError("a bug")

    table.get("/items/{item}", one)
    table.get("/crash", crash)
    binding = Binding(_Auth(), _no_signatures, Limiter(), 100, SystemClock(), Kept(), requests)
    router = Router(table, binding, _fallback)
    transport = httpx.ASGITransport(app=router, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/items/a")).status_code == 200
        assert (await http.head("/items/b")).status_code == 200  # the GET route's answer
        crashed = await http.get("/crash", headers={"X-Request-ID": "trace-9"})
        # The router's own 500: the request id to quote, in the body and header; no trace.
        assert crashed.status_code == 500 and crashed.headers["x-request-id"] == "trace-9"
        assert crashed.json()["request_id"] == "trace-9" and "a bug" not in crashed.text
        assert (await http.get("/elsewhere")).status_code == 418  # not a route: not measured
    [family] = requests.collect()
    counts = {
        (s.labels["method"], s.labels["route"], s.labels["status"], s.labels["dialect"]): s.value
        for s in family.samples
        if s.name.endswith("_count")
    }
    assert counts == {
        ("GET", "/items/{item}", "200", "tellus"): 2,
        ("GET", "/crash", "500", "tellus"): 1,
    }
