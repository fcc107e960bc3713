"""`voltgate keys app generate|host`: an app's P-256 key pair written with the private key
readable by its owner only, and, for an app voltgate hosts, the public key served by a running
server at its own well-known path, which the app then registers as its partner domain."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fixtures.live import LiveServer, live_server
from voltgate.identity.appkeys import KEY_PATH, fingerprint


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path / "data", tmp_path / "server.log") as live:
        # The CLI acts for this server: it knows the server's public address (its issuer).
        live.env["VOLTGATE_ISSUER"] = live.base_url
        yield live


def _generate(server: LiveServer, out: Path, *extra: str, check: bool = True) -> dict[str, str]:
    done = server.cli("keys", "app", "generate", "--out", str(out), *extra, "--json", check=check)
    return orjson.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr}


def test_a_key_pair_is_written_private_key_first_for_its_owner_only(
    server: LiveServer, tmp_path: Path
) -> None:
    out = tmp_path / "keys"
    made = _generate(server, out)
    private, public = out / "private-key.pem", out / "public-key.pem"
    assert (made["private_key"], made["public_key"]) == (str(private), str(public))
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert serialization.load_pem_public_key(public.read_bytes()) == key.public_key()
    assert made["public_key_hex"] == point.hex() and made["fingerprint"] == fingerprint(point)
    assert made["public_key_url"] == f"https://<your domain>{KEY_PATH}"
    # An existing pair is not replaced by accident.
    before = private.read_bytes()
    refused = server.cli("keys", "app", "generate", "--out", str(out), check=False)
    assert refused.returncode == 1 and "--force" in refused.stdout + refused.stderr
    assert private.read_bytes() == before
    replaced = _generate(server, out, "--force")
    assert replaced["public_key_hex"] != made["public_key_hex"]
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_hosted_key_is_served_by_the_server_and_registered_as_the_apps_domain(
    server: LiveServer, tmp_path: Path
) -> None:
    app = server.create_client(kind="third_party", scopes="openid vehicle_cmds")
    made = _generate(server, tmp_path / "keys", "--client-id", app["client_id"])
    assert made["public_key_url"] == f"{server.base_url}{KEY_PATH}"
    served = httpx.get(made["public_key_url"], timeout=10, follow_redirects=False)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/x-pem-file"
    assert served.content == (tmp_path / "keys" / "public-key.pem").read_bytes()

    token = httpx.post(
        f"{server.base_url}/oauth2/v3/token",
        data={"grant_type": "client_credentials"},
        auth=(app["client_id"], app["client_secret"]),
        timeout=10,
    ).json()["access_token"]
    domain = server.base_url.removeprefix("http://")
    registered = httpx.post(
        f"{server.base_url}/api/1/partner_accounts",
        json={"domain": domain},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["response"]["public_key"] == made["public_key_hex"]


def test_hosting_for_an_app_that_is_not_there_writes_nothing(
    server: LiveServer, tmp_path: Path
) -> None:
    out = tmp_path / "keys"
    refused = server.cli(
        "keys", "app", "generate", "--out", str(out), "--client-id", "vgc_test_nobody", check=False
    )
    assert refused.returncode == 1
    assert "no partner or third_party app 'vgc_test_nobody'" in refused.stdout + refused.stderr
    assert not out.exists()
