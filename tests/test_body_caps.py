"""Every route reads at most its body cap: a Content-Length past it is 413 before a byte is
read, a streamed body is cut by the message that takes it past, a body of exactly the cap is
read and judged. Token endpoints and forms take 16 KiB, registrations less, the rest the
server's `max_body_bytes`; the 413 comes in the route's own error body."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tests.conftest import App, Backend, make_settings
from tests.fixtures.bodies import StreamedPost
from tests.fixtures.fleet import bearer, enroll, operator
from voltgate.app import VoltgateApp, create_app
from voltgate.config import Settings

# The embedded default only: a body is capped before any storage is involved.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _rfc(message: str) -> dict[str, Any]:
    return {"error": "invalid_request", "error_description": message}


def _tellus(message: str) -> dict[str, Any]:
    return {"code": 1001, "message": message, "data": None, "error": "invalid_request"}


def _tesla(message: str) -> dict[str, Any]:
    return {"response": None, "code": 1001, **_rfc(message)}


def _resource(message: str) -> dict[str, Any]:
    return {"code": 1001, "message": message, **_rfc(message)}


OAUTH = 16_384
FORM = 16_384
DEFAULT = Settings.model_fields["max_body_bytes"].default
# (path, cap, error body, the caller the guard needs)
ROUTES = [
    ("/oauth/token", OAUTH, _rfc, None),
    ("/oauth/revoke", OAUTH, _rfc, None),
    ("/oauth/introspect", OAUTH, _rfc, None),
    ("/o/token", OAUTH, _rfc, None),
    ("/o/token/", OAUTH, _rfc, None),
    ("/o/revoke_token/", OAUTH, _rfc, None),
    ("/oauth2/v3/token", OAUTH, _rfc, None),
    ("/v1/operator/oauth/token", OAUTH, _tellus, None),
    ("/v1/device/token", OAUTH, _tellus, None),
    ("/v1/device/register", 8_192, _tellus, None),  # the enrollment token is checked after
    ("/api/1/partner_accounts", 4_096, _tesla, "partner"),
    ("/v1/operator/sites", DEFAULT, _tellus, "operator"),
    ("/v1/sites", DEFAULT, _resource, "operator"),
    ("/login", FORM, _resource, None),
    ("/oauth/authorize/decision", FORM, _resource, None),
    ("/logout", FORM, _resource, None),
    ("/account/apps/revoke", FORM, _resource, None),
]
JSON_BODIES = {"/v1/device/register", "/api/1/partner_accounts", "/v1/operator/sites", "/v1/sites"}
CHUNK = 1024


@dataclass
class Served:
    """The app in process: raw ASGI posts to it, `http` for the set-up, the guards' callers."""

    app: VoltgateApp
    http: App
    callers: dict[str | None, list[tuple[bytes, bytes]]]

    async def post(
        self, path: str, size: int, caller: str | None, *, declared: bool
    ) -> StreamedPost:
        auth = self.callers[caller]
        return await StreamedPost(path, size, declared=declared, headers=auth).to(self.app)


@pytest.fixture
async def served(app: App) -> Served:
    assert app.asgi is not None
    op = (await operator(app)).headers["Authorization"]
    partner = await app.token(*await app.client(kind="partner", scopes="openid"))
    callers = {
        None: [],
        "operator": [(b"authorization", op.encode())],
        "partner": [(b"authorization", f"Bearer {partner['access_token']}".encode())],
    }
    return Served(app.asgi, app, callers)


@pytest.mark.parametrize(("path", "cap", "shape", "caller"), ROUTES)
async def test_a_declared_length_past_the_cap_is_413_before_a_byte_is_read(
    served: Served, path: str, cap: int, shape: Any, caller: str | None
) -> None:
    post = await served.post(path, cap + 1, caller, declared=True)
    assert (post.status, post.pulled) == (413, 0), post.body
    assert post.json() == shape(f"request body exceeds {cap} bytes")


@pytest.mark.parametrize(("path", "cap", "shape", "caller"), ROUTES)
async def test_a_streamed_body_is_cut_by_the_message_that_passes_the_cap(
    served: Served, path: str, cap: int, shape: Any, caller: str | None
) -> None:
    post = await served.post(path, 4 * cap, caller, declared=False)
    assert (post.status, post.pulled) == (413, cap // CHUNK + 1), post.body
    assert post.json() == shape(f"request body exceeds {cap} bytes")


@pytest.mark.parametrize(("path", "cap", "shape", "caller"), ROUTES)
async def test_a_body_of_exactly_the_cap_is_read_and_judged(
    served: Served, path: str, cap: int, shape: Any, caller: str | None
) -> None:
    # Judged: a JSON route refuses the form's Content-Type (415), a form or OAuth route the
    # value `a` longer than a parameter may be (400).
    judged = 415 if path in JSON_BODIES else 400
    for declared in (True, False):
        post = await served.post(path, cap, caller, declared=declared)
        assert (post.status, post.pulled) == (judged, -(-cap // CHUNK)), post.body


async def test_the_longest_registration_fits_under_its_cap(served: Served) -> None:
    app = served.http
    token = await enroll(app, await operator(app))
    wide = "\U0001d54f"  # outside the BMP: 12 bytes once \u-escaped, a client's worst case
    body = {
        "sn": "S" + secrets.token_hex(31) + "S",
        "model": wide * 100,
        "manufacturer": wide * 100,
        "firmware_version": wide * 64,
        "mac": "AA:BB:CC:DD:EE:FF",
        "connectors": [{"type": "CHAdeMO", "max_power_kw": 999.9999999999999}] * 16,
    }
    raw = json.dumps(body, indent=2).encode()  # ensure_ascii: every wide character escaped
    assert 4_000 < len(raw) <= 8_192
    response = await app.http.post(
        "/v1/device/register",
        content=raw,
        headers={"content-type": "application/json", **bearer(token)},
    )
    assert response.status_code == 201, response.text


async def test_a_page_however_it_reads_its_body_reads_at_most_a_form(backend: Backend) -> None:
    application = create_app(make_settings(backend))

    async def whole(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    application.add_route("/whole", whole, methods=["POST"])
    async with application.router.lifespan_context(application):
        for declared in (True, False):
            post = await StreamedPost("/whole", 4 * FORM, declared=declared).to(application)
            assert (post.status, post.pulled) == (413, 0 if declared else FORM // CHUNK + 1)
            assert post.json() == _resource(f"request body exceeds {FORM} bytes")
            read = await StreamedPost("/whole", FORM, declared=declared).to(application)
            assert (read.status, read.body) == (200, str(FORM).encode())
