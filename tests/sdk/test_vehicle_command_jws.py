"""`Tesla.SS256` JWS: the token teslamotors/vehicle-command publishes in
internal/authentication/jwt_test.go verifies; fleet configs signed here verify with the
published audience and issuer encoding; a tampered, re-targeted or malformed token is refused
naming why."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from voltgate.sdk.vehicle_command import InvalidKey, generate_private_key, public_bytes, schnorr
from voltgate.sdk.vehicle_command.jws import (
    FLEET_TELEMETRY_AUDIENCE,
    InvalidJws,
    sign,
    sign_fleet_config,
    vehicle_audience,
    verify,
)

# jwt_test.go's TestVerify: the public key and a token it signed for one vehicle.
PUBLISHED_KEY = bytes.fromhex(
    "04775e2ef570d292df424c09f70e7d95678d5ce78124acb3f9375b198a4da9f9e9"
    "f0cc6d880e2e606e9b01b0fa62c6150e371aa5d8f7f09cc9e1bd3a1b449893ec"
)
PUBLISHED_TOKEN = (
    "eyJhbGciOiJUZXNsYS5TUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJjb20udGVzbGEudmVoaWNsZS5NM1RFUkFT"
    "SElNQUJVQ0swMSIsImZvbyI6ImJhciIsImlzcyI6IkJIZGVMdlZ3MHBMZlFrd0o5dzU5bFdlTlhPZUJKS3l6K1Rk"
    "YkdZcE5xZm5wOE14dGlBNHVZRzZiQWJENllzWVZEamNhcGRqMzhKeko0YjA2RzBTWWsrdz0ifQ.4Xq2tsynDYOhL"
    "BWpnqLJfsAzdOqTOwHkVowI47A-yzVXIQHaawObJvAYRoRs61oVwWiEQ7XYXG8WE_Vz_49eVirAV9NGKymj3HBTT"
    "jN5DmViWmFzfaIOXRWKJlE--vzU"
)
PUBLISHED_AUDIENCE = "com.tesla.vehicle.M3TERASHIMABUCK01"
CONFIG: dict[str, Any] = {
    "hostname": "telemetry.example.com",
    "port": 4443,
    "fields": {"Soc": {"interval_seconds": 60, "minimum_delta": 0.5}},
    "exp": 4_000_000_000,
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _with(token: str, index: int, value: dict[str, Any]) -> str:
    parts = token.split(".")
    parts[index] = _b64url(json.dumps(value).encode())
    return ".".join(parts)


def _signed(key: ec.EllipticCurvePrivateKey, header: dict[str, Any], claims: Any) -> str:
    """Any header and claims, validly signed (to reach the checks past the signature's)."""
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64url(schnorr.sign(key, signing_input.encode()))}"


def _refused(token: Any, reason: str, audience: str = FLEET_TELEMETRY_AUDIENCE) -> str:
    with pytest.raises(InvalidJws) as refused:
        verify(token, audience)
    assert refused.value.reason == reason, refused.value.description
    return refused.value.description


def test_the_published_token_verifies_with_its_key_and_claims() -> None:
    signer, claims = verify(PUBLISHED_TOKEN, PUBLISHED_AUDIENCE)
    assert signer == PUBLISHED_KEY
    assert claims == {
        "aud": PUBLISHED_AUDIENCE,
        "foo": "bar",
        "iss": base64.b64encode(PUBLISHED_KEY).decode(),
    }
    assert vehicle_audience("M3TERASHIMABUCK01", "x").startswith(PUBLISHED_AUDIENCE)


def test_a_fleet_config_round_trips_with_the_published_header_issuer_and_audience() -> None:
    key = generate_private_key()
    token = sign_fleet_config(key, CONFIG | {"iss": "someone", "aud": "elsewhere"})
    assert _part(token, 0) == {"alg": "Tesla.SS256", "typ": "JWT"}
    assert FLEET_TELEMETRY_AUDIENCE == "com.tesla.fleet.TelemetryClient"
    signer, claims = verify(token, FLEET_TELEMETRY_AUDIENCE)
    assert signer == public_bytes(key)
    # iss: standard base64 with padding of the 65-byte point; both overwritten by signing.
    assert claims == CONFIG | {
        "iss": base64.b64encode(public_bytes(key)).decode(),
        "aud": FLEET_TELEMETRY_AUDIENCE,
    }
    assert sign_fleet_config(key, CONFIG) == token  # deterministic, iss and aud its own


def test_a_token_for_another_audience_is_refused() -> None:
    token = sign(generate_private_key(), CONFIG, vehicle_audience("5YJ3E1EC4SF162094", "app"))
    assert "not 'com.tesla.fleet.TelemetryClient'" in _refused(token, "audience")
    _refused(PUBLISHED_TOKEN, "audience")


def test_an_audience_list_naming_the_audience_is_taken() -> None:
    """RFC 7519 §4.1.3: `aud` may be a list (the published verifier takes one too)."""
    key = generate_private_key()
    iss = base64.b64encode(public_bytes(key)).decode()
    claims = CONFIG | {"iss": iss, "aud": ["other", FLEET_TELEMETRY_AUDIENCE]}
    token = _signed(key, {"alg": "Tesla.SS256"}, claims)
    assert verify(token, FLEET_TELEMETRY_AUDIENCE) == (public_bytes(key), claims)
    _refused(_signed(key, {"alg": "Tesla.SS256"}, claims | {"aud": ["other"]}), "audience")


def test_tampered_claims_are_refused() -> None:
    token = sign_fleet_config(generate_private_key(), CONFIG)
    claims = _part(token, 1)
    moved = _with(token, 1, claims | {"hostname": "attacker.example"})
    assert _refused(moved, "signature") == "the JWS signature does not verify with its iss"


def test_claims_re_signed_by_another_key_under_the_first_key_s_iss_are_refused() -> None:
    mine, theirs = generate_private_key(), generate_private_key()
    forged = sign_fleet_config(theirs, CONFIG)
    claims = _part(forged, 1) | {"iss": base64.b64encode(public_bytes(mine)).decode()}
    parts = forged.split(".")
    parts[1] = _b64url(json.dumps(claims).encode())
    _refused(".".join(parts), "signature")


@pytest.mark.parametrize("at", [0, 60, -1])
def test_a_tampered_signature_is_refused(at: int) -> None:
    token = sign_fleet_config(generate_private_key(), CONFIG)
    head, _, signature = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[at] ^= 0x01
    _refused(f"{head}.{_b64url(bytes(raw))}", "signature")
    _refused(f"{head}.{_b64url(bytes(raw[:-1]))}", "signature")


@pytest.mark.parametrize("alg", ["none", "ES256", "HS256", None])
def test_another_algorithm_is_refused(alg: str | None) -> None:
    token = sign_fleet_config(generate_private_key(), CONFIG)
    header = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
    assert "only Tesla.SS256" in _refused(_with(token, 0, header), "algorithm")


def test_an_issuer_that_is_no_p256_key_is_refused() -> None:
    token = sign_fleet_config(generate_private_key(), CONFIG)
    claims = _part(token, 1)
    for iss in (None, 42, "not base64!", base64.b64encode(b"\x04" + bytes(64)).decode()):
        bad = {k: v for k, v in claims.items() if k != "iss"} | (
            {} if iss is None else {"iss": iss}
        )
        _refused(_with(token, 1, bad), "issuer")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "e30.e30.",
        "e30=.e30.AAAA",
        "not json.e30.AAAA",
        _b64url(b"[1]") + ".e30.AAAA",
        _b64url(b'{"alg":"Tesla.SS256"}') + "." + _b64url(b"[]") + ".AAAA",
        _b64url(b'{"alg":"Tesla.SS256"}') + "." + _b64url(b'{"a":NaN}') + ".AAAA",
        _b64url(b'{"alg":"Tesla.SS256","alg":"none"}') + ".e30.AAAA",
        "x" * 70_000,
        _b64url(b'{"a":' + b"[" * 20_000 + b"]" * 20_000 + b"}") + ".e30.AAAA",
        42,
    ],
)
def test_malformed_tokens_are_refused(token: Any) -> None:
    _refused(token, "malformed")


def test_critical_header_extensions_and_repeated_members_are_refused_though_signed() -> None:
    key = generate_private_key()
    iss = base64.b64encode(public_bytes(key)).decode()
    claims = CONFIG | {"iss": iss, "aud": FLEET_TELEMETRY_AUDIENCE}
    critical = {"alg": "Tesla.SS256", "crit": ["exp"], "exp": 1}
    assert "crit" in _refused(_signed(key, critical, claims), "malformed")
    twice = _signed(key, {"alg": "Tesla.SS256"}, claims)
    head, body, signature = twice.split(".")
    text = base64.urlsafe_b64decode(body + "==").decode()
    doubled = text[:-1] + ', "hostname": "attacker.example"}'
    signing_input = f"{head}.{_b64url(doubled.encode())}"
    resigned = f"{signing_input}.{_b64url(schnorr.sign(key, signing_input.encode()))}"
    assert "twice" in _refused(resigned, "malformed")
    assert signature


def test_a_p384_key_cannot_sign() -> None:
    with pytest.raises(InvalidKey):
        sign_fleet_config(ec.generate_private_key(ec.SECP384R1()), CONFIG)
