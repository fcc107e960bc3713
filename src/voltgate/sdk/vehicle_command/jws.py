"""Messages signed once for vehicles that trust a key, as JWS compact serialisations (RFC 7515
§7.1) with the `Tesla.SS256` algorithm (`schnorr.py`), as teslamotors/vehicle-command's
`tesla-jws` and its proxy make them: a fleet telemetry config is sent this way to
`POST /api/1/vehicles/fleet_telemetry_config_jws`.

- Header `{"alg":"Tesla.SS256","typ":"JWT"}`; claims a JSON object; the signature the 96-byte
  Schnorr signature over `base64url(header) "." base64url(claims)`; each part base64url
  without padding.
- `iss` is the signer: its 65-byte public key in standard base64 (with padding). `aud` names
  who may act on it: `com.tesla.fleet.<app>` for every vehicle that trusts the key,
  `com.tesla.vehicle.<VIN>.<app>` for one vehicle; fleet telemetry configs use the app
  `TelemetryClient`. Signing overwrites both; other claims are the caller's (`exp` included:
  checking times is the receiver's business, as it is for the published verifier).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from voltgate.sdk.vehicle_command import schnorr
from voltgate.sdk.vehicle_command.errors import InvalidKey, VehicleCommandError
from voltgate.sdk.vehicle_command.keys import PrivateKey, public_bytes, public_key_from_bytes

ALGORITHM = "Tesla.SS256"
TELEMETRY_APP = "TelemetryClient"
_HEADER = {"alg": ALGORITHM, "typ": "JWT"}
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_TOKEN_LENGTH = 65_536  # a config with a CA chain is a few KiB


def fleet_audience(app: str) -> str:
    """Every vehicle that trusts the signing key."""
    return f"com.tesla.fleet.{app}"


def vehicle_audience(vin: str, app: str) -> str:
    """Only the vehicle `vin`."""
    return f"com.tesla.vehicle.{vin}.{app}"


FLEET_TELEMETRY_AUDIENCE = fleet_audience(TELEMETRY_APP)


class InvalidJws(VehicleCommandError):
    """A token that is not a valid `Tesla.SS256` JWS for the audience. `reason` names the
    failure: `malformed`, `algorithm`, `issuer`, `audience` or `signature`."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


def sign(private_key: PrivateKey, claims: Mapping[str, Any], audience: str) -> str:
    """`claims` signed by `private_key` for `audience` (`iss` and `aud` set, overwritten if
    the caller had them)."""
    body = dict(claims)
    body["iss"] = base64.b64encode(public_bytes(private_key)).decode()
    body["aud"] = audience
    signing_input = f"{_encode_json(_HEADER)}.{_encode_json(body)}"
    signature = schnorr.sign(private_key, signing_input.encode())
    return f"{signing_input}.{_b64url(signature)}"


def sign_fleet_config(private_key: PrivateKey, config: Mapping[str, Any]) -> str:
    """A fleet telemetry `config` as the JWS `fleet_telemetry_config_jws` takes, signed for
    every vehicle that has the key paired."""
    return sign(private_key, config, FLEET_TELEMETRY_AUDIENCE)


def verify(token: str, allowed_audience: str) -> tuple[bytes, dict[str, Any]]:
    """The signer's 65-byte public key and the claims (`iss` and `aud` included) of a token
    signed by the key its `iss` names for `allowed_audience`; InvalidJws otherwise. Whether the
    signer is trusted is the caller's to decide."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidJws("malformed", f"a JWS is a string of at most {MAX_TOKEN_LENGTH} characters")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(part and _SEGMENT.match(part) for part in parts):
        raise InvalidJws(
            "malformed", "not a JWS: three base64url parts (header.claims.signature) expected"
        )
    header = _decode_json(parts[0], "header")
    alg = header.get("alg")
    if alg != ALGORITHM:
        shown = repr(alg)[:40]
        raise InvalidJws("algorithm", f"the JWS algorithm is {shown}; only {ALGORITHM} is taken")
    if "crit" in header:  # RFC 7515 §4.1.11: extensions this verifier does not know
        raise InvalidJws("malformed", "the JWS header names critical extensions (crit)")
    claims = _decode_json(parts[1], "claims")
    signer = _issuer(claims.get("iss"))
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if allowed_audience not in audiences:
        shown = repr(audience)[:100]
        raise InvalidJws("audience", f"the JWS audience is {shown}, not {allowed_audience!r}")
    try:
        schnorr.verify(signer, f"{parts[0]}.{parts[1]}".encode(), _b64url_decode(parts[2]))
    except schnorr.InvalidSignature:
        raise InvalidJws("signature", "the JWS signature does not verify with its iss") from None
    return signer, claims


def _issuer(iss: object) -> bytes:
    if not isinstance(iss, str):
        raise InvalidJws("issuer", "the JWS has no iss: the signer's public key in base64")
    try:
        key = base64.b64decode(iss, validate=True)
        public_key_from_bytes(key)
    except (binascii.Error, ValueError, InvalidKey):
        raise InvalidJws(
            "issuer", "the JWS iss is not a base64 65-byte NIST P-256 public key"
        ) from None
    return key


def _decode_json(part: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(
            _b64url_decode(part), object_pairs_hook=_unique, parse_constant=_not_json
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJws("malformed", f"the JWS {name} is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidJws("malformed", f"the JWS {name} nests too deeply") from None
    if not isinstance(value, dict):
        raise InvalidJws("malformed", f"the JWS {name} is not a JSON object")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A member named twice is refused: no reader may see another value than was signed for."""
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise ValueError(f"member {name!r} appears twice")
        seen[name] = value
    return seen


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _encode_json(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _b64url(text.encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidJws("malformed", "a JWS part is not base64url") from None
