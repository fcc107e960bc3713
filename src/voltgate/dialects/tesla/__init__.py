"""Tesla Fleet API: `/oauth2/v3/token`, the third-party OpenID discovery document, the partner
endpoints (and the well-known path of the app key voltgate hosts), and a user's account,
vehicles (their Fleet Telemetry configs and virtual keys too), energy sites and products under
`/api/1`, in `{"response": …}` bodies with `{"response": null, "error",
"error_description", "code"}` errors.

Every `/api/1` resource route counts against its app's limit (`RateLimit-*` on every answer,
429 code 5001 with `Retry-After` past it). The authorization endpoint (`/oauth2/v3/authorize`)
is served by the web pages.

Tokens issued at `/oauth2/v3/token` follow Tesla's rules (`identity.profiles.TESLA`): access
tokens live 8 hours unless the app chose a lifetime, and a refresh token comes only with
`offline_access`, whatever else is asked.
"""

from __future__ import annotations

from typing import Any

from voltgate.dialects.canonical.oauth import OAuth
from voltgate.dialects.tesla import (
    energy,
    keys,
    partners,
    products,
    stream,
    telemetry,
    users,
    vehicles,
)
from voltgate.dialects.tesla.errors import TESLA_ERRORS
from voltgate.errors import RESOURCE_ERRORS, RFC_ERRORS
from voltgate.http.kept import Kept
from voltgate.http.limits import PER_APP
from voltgate.http.oauth import TokenResponse, oauth_endpoint
from voltgate.http.routing import Body, RouteTable
from voltgate.identity.metadata import EndpointPaths
from voltgate.identity.profiles import TESLA
from voltgate.runtime import Runtime

PATHS = EndpointPaths(authorization="/oauth2/v3/authorize", token="/oauth2/v3/token")  # noqa: S106


def mount(table: RouteTable, rt: Runtime, _kept: Kept) -> None:
    identity = rt.identity
    oauth = OAuth(identity, rt.settings.issuer)
    table.post(
        "/oauth2/v3/token",
        oauth_endpoint(identity.token_endpoint.handle, profile=TESLA),
        errors=RFC_ERRORS,
        body=Body.oauth(),
        response=TokenResponse,
        failures=(429,),
        tags=("tesla",),
        summary="Tesla token endpoint",
    )
    table.get(
        "/oauth2/v3/thirdparty/.well-known/openid-configuration",
        oauth.openid_metadata(PATHS),
        errors=RESOURCE_ERRORS,
        response=dict[str, Any],
        tags=("tesla",),
        summary="Tesla third-party OpenID Provider metadata",
    )
    tesla = table.scope(errors=TESLA_ERRORS)
    partners.mount(tesla, identity.partners)
    owner = rt.owner
    limited = tesla.scope(limit=PER_APP)
    vehicles.mount(limited, owner.vehicles)
    telemetry.mount(limited, owner.telemetry_configs)
    keys.mount(limited, owner.keys)
    live = rt.streams
    stream.mount(limited, owner.vehicles, live.vehicles, live.vehicle_feed, live.sessions)
    energy.mount(limited, owner.energy)
    products.mount(limited, owner.vehicles, owner.energy)
    users.mount(limited, identity.users, rt.settings.issuer)
