"""A telemetry config that comes signed (`fleet_telemetry_config_jws`): a JWS whose claims are
the config plus `iss` (the signer's public key) and `aud` (`com.tesla.fleet.TelemetryClient`),
signed with `Tesla.SS256` (`sdk.vehicle_command.jws`). The vehicle trusts it when the signer is
a key paired with it; that is the service's check, per vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson
from pydantic import ValidationError

from voltgate.errors import InvalidRequest, ValidationFailed
from voltgate.fleettelemetry.configs.schemas import ConfigBody
from voltgate.fleettelemetry.configs.store import TelemetryConfig
from voltgate.sdk.vehicle_command.jws import FLEET_TELEMETRY_AUDIENCE, InvalidJws, verify

_SIGNING_CLAIMS = ("iss", "aud")


@dataclass(frozen=True, slots=True)
class SignedConfig:
    signer: bytes  # the 65-byte public key that signed it
    config: TelemetryConfig


def signed_config(token: str) -> SignedConfig:
    """The config a valid token carries; 400 naming the failure otherwise: the token itself
    (malformed, another algorithm or audience, an issuer that is no key, a signature that does
    not verify) or the config in its claims (validated as the unsigned endpoint's body)."""
    try:
        signer, claims = verify(token, FLEET_TELEMETRY_AUDIENCE)
    except InvalidJws as exc:
        raise InvalidRequest(f"token: {exc.description}") from None
    config = {name: value for name, value in claims.items() if name not in _SIGNING_CLAIMS}
    try:
        # Through JSON, so the claims meet exactly the strict checks a JSON body meets.
        body = ConfigBody.model_validate_json(orjson.dumps(config))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
        place = ".".join(str(part) for part in ("token", *first["loc"]))
        raise ValidationFailed(f"{place}: {first['msg']}"[:300]) from None
    except orjson.JSONEncodeError:  # a number past 64 bits
        raise ValidationFailed("token: the claims hold a number out of range") from None
    carried = replace(body.telemetry_config(), iss=claims["iss"], aud=FLEET_TELEMETRY_AUDIENCE)
    return SignedConfig(signer, carried)
