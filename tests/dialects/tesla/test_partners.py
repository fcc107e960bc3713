"""Partner accounts: registering a domain downloads its hosted public key over real HTTP (a key
host on 127.0.0.1, the sandbox's loopback domains) and stores it; every kind of bad key host is
refused with a message naming what is wrong; `public_key?domain=` answers the stored point; the
key voltgate hosts itself is served at the well-known path."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.fixtures.grants import user_token
from tests.fixtures.keyhost import ELSEWHERE, key_host, p384_pem, rsa_pem
from voltgate.app import create_app
from voltgate.config import Environment, Settings
from voltgate.identity.appkeys import KEY_PATH, KeyRefused, generate, pem_of
from voltgate.identity.keyfetch import PemFetcher

PARTNERS = "/api/1/partner_accounts"
REDIRECT = "https://app.example/callback"


async def _partner(app: App, kind: str = "partner") -> dict[str, str]:
    """The bearer header of a new app's own client-credentials token (Tesla's partner token)."""
    return (await _partner_app(app, kind))[1]


async def _partner_app(app: App, kind: str = "partner") -> tuple[str, dict[str, str]]:
    cid, secret = await app.client(kind=kind, scopes="openid vehicle_device_data")
    response = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert response.status_code == 200, response.text
    return cid, {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _register(app: App, headers: dict[str, str], domain: str) -> httpx.Response:
    return await app.http.post(PARTNERS, json={"domain": domain}, headers=headers)


def _refusal(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["response"] is None and body["error"] == "invalid_public_key", body
    assert body["code"] == 1002
    return str(body["error_description"])


async def test_a_good_p256_key_is_stored_and_its_point_answered_by_domain(app: App) -> None:
    headers = await _partner(app)
    with key_host() as host:
        pair = host.serve_key()
        registered = await _register(app, headers, host.domain)
        assert host.asked() == [KEY_PATH]
    assert registered.status_code == 200, registered.text
    assert registered.json()["response"]["public_key"] == pair.point.hex()
    answer = await app.http.get(
        f"{PARTNERS}/public_key", params={"domain": host.domain}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"response": {"public_key": pair.point.hex()}}
    assert len(bytes.fromhex(answer.json()["response"]["public_key"])) == 65
    # Stored: the key, not the file (and nothing secret exists to store).
    assert await app.rt.identity.partners.key_of(registered.json()["response"]["client_id"]) == (
        pair.point
    )


async def test_registering_again_takes_the_key_hosted_now(app: App) -> None:
    headers = await _partner(app)
    with key_host() as host:
        host.serve_key()
        assert (await _register(app, headers, host.domain)).status_code == 200
        rotated = host.serve_key()
        again = await _register(app, headers, host.domain)
    assert again.json()["response"]["public_key"] == rotated.point.hex()


BAD_HOSTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "redirect",
        {"body": b"", "status": 301, "headers": {"location": "ELSEWHERE"}},
        "redirect (HTTP 301 to http://{domain}" + ELSEWHERE,
    ),
    ("html", {"body": b"<!doctype html><title>Home</title>", "content_type": "text/html"}, "HTML"),
    (
        "html body",
        {"body": b"\n<html><body>hi</body></html>", "content_type": "text/plain"},
        "HTML",
    ),
    ("p384", {"body": p384_pem()}, "wrong curve: P-384"),
    ("rsa", {"body": rsa_pem()}, "the key is RSA"),
    ("garbage", {"body": b"hello, this is not a key"}, "not PEM"),
    (
        "broken pem",
        {"body": b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
        "not a readable PEM public key",
    ),
    ("private key", {"body": generate().private_pem}, "PRIVATE key"),
    ("too big", {"body": b"-----BEGIN PUBLIC KEY-----\n" + b"A" * 5000}, "too big"),
    ("missing", {"body": b"nope", "status": 404}, "HTTP 404"),
]


async def test_bad_key_hosts_are_refused_naming_what_is_wrong(app: App) -> None:
    headers = await _partner(app)
    with key_host() as host:
        for name, served, reason in BAD_HOSTS:
            extra = served.get("headers", {})
            if extra.get("location") == "ELSEWHERE":
                extra = {"location": f"http://{host.domain}{ELSEWHERE}"}
            host.serve(
                served["body"],
                status=served.get("status", 200),
                content_type=served.get("content_type", "application/x-pem-file"),
                headers=extra,
            )
            message = _refusal(await _register(app, headers, host.domain))
            url = f"http://{host.domain}{KEY_PATH}"
            assert message.startswith(f"public key download failed for {url}: "), (name, message)
            assert reason.format(domain=host.domain) in message, (name, message)
        # The redirect was not followed: its target was never asked for.
        assert ELSEWHERE not in host.asked()
    refused = await app.http.get(PARTNERS, headers=headers)
    assert refused.status_code == 404  # nothing was stored


async def test_an_unreachable_domain_is_refused(app: App) -> None:
    headers = await _partner(app)
    with key_host() as host:
        domain = host.domain  # stopped below: nothing listens there any more
    message = _refusal(await _register(app, headers, domain))
    assert "unreachable (connection failed)" in message


async def test_a_host_that_never_answers_is_a_timeout() -> None:
    with key_host() as host:
        host.stalled = True
        with pytest.raises(KeyRefused, match=r"timeout \(no answer within 0.3 s\)"):
            await PemFetcher(sandbox=True, timeout=0.3).fetch(host.domain)
        assert host.asked() == [KEY_PATH]


async def test_a_domain_is_one_apps(app: App) -> None:
    first, second = await _partner(app), await _partner(app, "third_party")
    with key_host() as host:
        host.serve_key()
        assert (await _register(app, first, host.domain)).status_code == 200
        taken = await _register(app, second, host.domain)
    assert taken.status_code == 409, taken.text
    assert (
        taken.json()["error_description"]
        == f"the domain {host.domain} is registered by another app"
    )


async def test_an_unknown_domains_key_is_404_in_teslas_body(app: App) -> None:
    headers = await _partner(app)
    answer = await app.http.get(
        f"{PARTNERS}/public_key", params={"domain": "nobody.example.com"}, headers=headers
    )
    assert answer.status_code == 404
    body = answer.json()
    assert body["response"] is None and body["error"] == "not_found" and body["code"] == 3001
    assert "nobody.example.com" in body["error_description"]


async def test_an_apps_own_client_credentials_are_a_partner_token_and_a_users_token_is_not(
    app: App,
) -> None:
    cid, secret = await app.client(
        kind="third_party", scopes="vehicle_device_data", redirect_uris=[REDIRECT]
    )
    user = await app.rt.identity.users.create("ada@example.com", "correct horse battery")
    token = await user_token(app, cid, secret, user.id, "vehicle_device_data", REDIRECT)
    refused = await app.http.get(PARTNERS, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert "partner token" in refused.json()["error_description"]
    own = await _partner(app, "third_party")
    assert (await app.http.get(PARTNERS, headers=own)).status_code == 404  # allowed; none yet


async def test_the_key_voltgate_hosts_is_served_as_a_pem_that_revalidates(app: App) -> None:
    assert (await app.http.get(KEY_PATH)).status_code == 404
    cid, headers = await _partner_app(app)
    pair = generate()
    await app.rt.identity.partners.host(cid, pair.point)
    served = await app.http.get(KEY_PATH)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/x-pem-file"
    assert served.content == pair.public_pem == pem_of(pair.point)
    assert served.headers["cache-control"] == "public, max-age=300, must-revalidate"
    etag = served.headers["etag"]
    unchanged = await app.http.get(KEY_PATH, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    # A rotated key has another ETag: a cache revalidating gets the new key at once.
    rotated = generate()
    await app.rt.identity.partners.host(cid, rotated.point)
    fresh = await app.http.get(KEY_PATH, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.content == rotated.public_pem
    # The app registers voltgate's own domain: the hosted key, without a download.
    domain = app.rt.identity.partners.own_domain
    registered = await _register(app, headers, domain)
    assert registered.status_code == 200, registered.text
    assert registered.json()["response"]["public_key"] == rotated.point.hex()


async def test_outside_a_sandbox_http_and_loopback_domains_are_refused(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, master_key=key)
    application = create_app(settings)
    with key_host() as host:
        host.serve_key()
        async with application.router.lifespan_context(application):
            created = await application.state.runtime.identity.admin.create(
                name="live partner", kind="partner", scopes="openid"
            )
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
                token = await http.post(
                    "/oauth2/v3/token",
                    data={"grant_type": "client_credentials"},
                    auth=(created.client.id, created.secret),
                )
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                for domain in (host.domain, "localhost", "http://fleet.example.com"):
                    refused = await http.post(PARTNERS, json={"domain": domain}, headers=headers)
                    assert refused.status_code == 400, refused.text
                    assert "no scheme, path or port" in refused.json()["error_description"]
        with pytest.raises(KeyRefused, match="loopback addresses are for sandboxes only"):
            await PemFetcher(sandbox=False).fetch(host.domain)
        assert host.asked() == []  # never contacted
