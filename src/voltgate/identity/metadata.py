"""Authorization server metadata (RFC 8414 §2) and OpenID Provider metadata (Discovery 1.0 §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Scopes this deployment describes and protects: Tellus, Tesla and OpenID vocabularies
# (ev.energy's `resource:action` scopes are registered per client).
KNOWN_SCOPES = [
    "openid",
    "offline_access",
    "profile",
    "email",
    "read",
    "write",
    "user_data",
    "vehicle_device_data",
    "vehicle_location",
    "vehicle_cmds",
    "vehicle_charging_cmds",
    "energy_device_data",
    "energy_cmds",
    # ev.energy resources (issue 5)
    "charging_session:read",
    "vehicle:read",
]
_CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True, slots=True)
class EndpointPaths:
    """Where a dialect serves the protocol endpoints; the issuer is shared by all dialects."""

    authorization: str = "/oauth/authorize"
    token: str = "/oauth/token"  # noqa: S105 - a path, not a secret
    revocation: str = "/oauth/revoke"
    introspection: str = "/oauth/introspect"
    userinfo: str = "/oauth/userinfo"
    jwks: str = "/.well-known/jwks.json"


CANONICAL = EndpointPaths()


def server_metadata(
    issuer: str, grant_types: list[str], paths: EndpointPaths = CANONICAL
) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}{paths.authorization}",
        "token_endpoint": f"{issuer}{paths.token}",
        "jwks_uri": f"{issuer}{paths.jwks}",
        "revocation_endpoint": f"{issuer}{paths.revocation}",
        "introspection_endpoint": f"{issuer}{paths.introspection}",
        "grant_types_supported": grant_types,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": KNOWN_SCOPES,
        # "none": public (open-source) clients, which must use PKCE instead of a secret.
        "token_endpoint_auth_methods_supported": [*_CLIENT_AUTH, "none"],
        "revocation_endpoint_auth_methods_supported": [*_CLIENT_AUTH, "none"],
        "introspection_endpoint_auth_methods_supported": _CLIENT_AUTH,
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "service_documentation": f"{issuer}/docs",
    }


def openid_configuration(
    issuer: str, grant_types: list[str], paths: EndpointPaths = CANONICAL
) -> dict[str, Any]:
    return {
        **server_metadata(issuer, grant_types, paths),
        "userinfo_endpoint": f"{issuer}{paths.userinfo}",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "azp",
            "name",
            "picture",
            "email",
            "email_verified",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
