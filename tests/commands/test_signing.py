"""Signed commands through the real routes: with signing enabled a V2G discharge must carry a
valid X-Signature over METHOD, PATH, TIMESTAMP and BODY, accepted once; a charger whose mode
is `required` signs its own calls."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import orjson
import pytest

from tests.commands.support import DISCHARGE, START, Fleet, fleet, queued
from tests.conftest import App
from tests.fixtures.fleet import Operator, bearer
from voltgate.errors import NotFound, ValidationFailed
from voltgate.identity.clients import ClientKind
from voltgate.sdk.signer import Signer

BODY = orjson.dumps(DISCHARGE)
FLEX = orjson.dumps({"target_type": "all", "command": "pause_charging", "params": {"duration": 60}})


async def _signing_fleet(app: App, mode: str) -> tuple[Fleet, Signer]:
    client_id, secret = await app.client(kind="operator", name="Signing ops", signing=mode)
    op = Operator(client_id, bearer((await app.token(client_id, secret))["access_token"]))
    return await fleet(app, op), Signer(secret)


def _headers(
    app: App, fl: Fleet, signer: Signer | None, path: str, body: bytes, **extra: str
) -> dict[str, str]:
    headers = {**fl.op.headers, "content-type": "application/json", **extra}
    if signer is not None:
        headers |= signer.headers("POST", path, body, timestamp=int(app.clock.now()))
    return headers


def _refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert (body["code"], body["error"], body["data"]) == (2001, "invalid_signature", None)
    assert message in body["message"]


async def test_a_signed_discharge_passes_once(app: App) -> None:
    fl, signer = await _signing_fleet(app, "optional")
    path = fl.path("discharge")
    headers = _headers(app, fl, signer, path, BODY)
    response = await app.http.post(path, content=BODY, headers=headers)
    assert response.status_code == 202, response.text
    _refused(await app.http.post(path, content=BODY, headers=headers), "already used (replay)")


async def test_an_unsigned_discharge_is_refused_when_signing_is_optional(app: App) -> None:
    fl, _ = await _signing_fleet(app, "optional")
    path = fl.path("discharge")
    _refused(
        await app.http.post(path, content=BODY, headers=_headers(app, fl, None, path, BODY)),
        "must be signed",
    )
    flex = "/v1/operator/control/flexibility"
    _refused(
        await app.http.post(flex, content=FLEX, headers=_headers(app, fl, None, flex, FLEX)),
        "must be signed",
    )
    # Routine commands need no signature in optional mode.
    assert (await queued(app, fl)) is not None


async def test_a_tampered_body_or_path_is_refused(app: App) -> None:
    fl, signer = await _signing_fleet(app, "optional")
    path = fl.path("discharge")
    headers = _headers(app, fl, signer, path, BODY)
    tampered = orjson.dumps({**DISCHARGE, "discharge_power": 11})
    _refused(await app.http.post(path, content=tampered, headers=headers), "does not match")
    _refused(
        await app.http.post(fl.path("discharge", 2), content=BODY, headers=headers),
        "does not match",
    )
    assert (await app.http.get("/v1/operator/commands", headers=fl.op.headers)).json()["data"][
        "total"
    ] == 0


async def test_a_stale_timestamp_or_wrong_secret_is_refused(app: App) -> None:
    fl, signer = await _signing_fleet(app, "optional")
    path = fl.path("discharge")
    stale = signer.headers("POST", path, BODY, timestamp=int(app.clock.now()) - 301)
    _refused(
        await app.http.post(
            path, content=BODY, headers=_headers(app, fl, None, path, BODY, **stale)
        ),
        "stale",
    )
    forged = Signer("vgcs_test_not-the-secret").headers(
        "POST", path, BODY, timestamp=int(app.clock.now())
    )
    _refused(
        await app.http.post(
            path, content=BODY, headers=_headers(app, fl, None, path, BODY, **forged)
        ),
        "does not match",
    )


def _as_the_guide_says(secret: str, method: str, path: str, stamp: str, body: bytes) -> str:
    """What a client following Tellus's guide writes: "HTTP_METHOD + REQUEST_PATH + TIMESTAMP
    + REQUEST_BODY", HMAC-SHA256 with the secret, hex."""
    message = method + path + stamp + body.decode()
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


async def test_the_guides_literal_concatenation_is_accepted(app: App) -> None:
    client_id, secret = await app.client(kind="operator", name="Guide ops", signing="optional")
    op = Operator(client_id, bearer((await app.token(client_id, secret))["access_token"]))
    fl = await fleet(app, op)
    path, stamp = fl.path("discharge"), str(int(app.clock.now()))
    signed = {
        "X-Timestamp": stamp,
        "X-Signature": _as_the_guide_says(secret, "POST", path, stamp, BODY),
    }
    response = await app.http.post(
        path, content=BODY, headers=_headers(app, fl, None, path, BODY, **signed)
    )
    assert response.status_code == 202, response.text
    # Another secret, same recipe: 401 code 2001, and the message spells out what to sign.
    stamp = str(int(app.clock.now()) + 1)
    forged = {
        "X-Timestamp": stamp,
        "X-Signature": _as_the_guide_says("vgcs_test_wrong", "POST", path, stamp, BODY),
    }
    refused = await app.http.post(
        path, content=BODY, headers=_headers(app, fl, None, path, BODY, **forged)
    )
    _refused(refused, "does not match")
    assert (
        f"Sign METHOD + PATH + TIMESTAMP + BODY with HMAC-SHA256 keyed by your secret, as "
        f'lowercase hex; here "POST" + "{path}" + "{stamp}" + the {len(BODY)} body bytes '
        'exactly as sent, either concatenated with nothing between them or joined by "\\n"'
    ) in refused.json()["message"]


async def test_a_signature_is_verified_even_where_signing_is_off(app: App) -> None:
    fl, signer = await _signing_fleet(app, "off")
    path = fl.path("start")
    body = orjson.dumps(START)
    headers = _headers(app, fl, signer, path, body)
    tampered = orjson.dumps({**START, "charge_power": 22})
    _refused(await app.http.post(path, content=tampered, headers=headers), "does not match")
    plain = await app.http.post(path, content=body, headers=_headers(app, fl, None, path, body))
    assert plain.status_code == 202


async def test_required_mode_set_by_the_admin_applies_to_every_command(app: App) -> None:
    fl, signer = await _signing_fleet(app, "off")
    await app.rt.identity.admin.set_signing(fl.op.client_id, "required")
    path, body = fl.path("start"), orjson.dumps(START)
    _refused(
        await app.http.post(path, content=body, headers=_headers(app, fl, None, path, body)),
        "requires signed requests",
    )
    response = await app.http.post(
        path, content=body, headers=_headers(app, fl, signer, path, body)
    )
    assert response.status_code == 202, response.text


async def test_a_charger_in_required_mode_signs_its_calls(app: App) -> None:
    fl = await fleet(app)
    await app.rt.identity.admin.set_signing(
        fl.charger.device_id, "required", kind=ClientKind.DEVICE
    )
    signer = Signer(fl.charger.secret)
    now = int(app.clock.now())
    unsigned = await app.http.post("/v1/device/heartbeat", json={}, headers=fl.device)
    _refused(unsigned, "requires signed requests")
    beat = b"{}"
    headers = {
        **fl.device,
        "content-type": "application/json",
        **signer.headers("POST", "/v1/device/heartbeat", beat, now),
    }
    ok = await app.http.post("/v1/device/heartbeat", content=beat, headers=headers)
    assert ok.status_code == 200, ok.text
    # The signed path of a GET is the request target with its query string; the body is empty.
    target = "/v1/device/commands?wait=0"
    headers = {**fl.device, **signer.headers("GET", target, b"", now)}
    assert (await app.http.get(target, headers=headers)).status_code == 200
    wrong = {**fl.device, **signer.headers("GET", "/v1/device/commands", b"", now)}
    _refused(await app.http.get(target, headers=wrong), "does not match")


async def test_set_signing_refuses_unknown_modes_and_non_devices(app: App) -> None:
    fl = await fleet(app)
    with pytest.raises(ValidationFailed):
        await app.rt.identity.admin.set_signing(fl.op.client_id, "sometimes")
    with pytest.raises(NotFound):
        await app.rt.identity.admin.set_signing(fl.op.client_id, "required", kind=ClientKind.DEVICE)
