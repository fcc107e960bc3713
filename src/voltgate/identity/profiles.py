"""Where a dialect's OAuth paths differ from voltgate's own (`/oauth/*`, which keep to the RFCs):
what an integrator following that platform's guide sends, accepted as the guide says.

A path's profile travels with its request (`OAuthRequest.profile` at the token endpoint, the
authorization page's path) to the rules that read it; nothing else about a request changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.identity import pkce


@dataclass(frozen=True, slots=True)
class Profile:
    # An app that chose no token lifetime gets this on the profile's paths (else its kind's).
    access_ttl: int | None = None
    # An authorization request without `scope` is for the scopes the app was registered with.
    scopes_by_default: bool = False
    # The shapes of `code_verifier` accepted at the token endpoint.
    verifier: pkce.Verifiers = pkce.VERIFIER
    # A refresh token only for `offline_access`, whatever else is asked (else: OpenID
    # Connect's rule, which asks it only of requests with `openid`).
    refresh_needs_offline_access: bool = False


CORE = Profile()

# ev.energy: 10-hour tokens; an app's scopes are fixed when it is created, so the guide's
# authorize URL names none; its PKCE snippet sends base64 of 43-128 characters as the verifier.
EVENERGY = Profile(access_ttl=36_000, scopes_by_default=True, verifier=pkce.BASE64_VERIFIER)

# Tesla: 8-hour access tokens; a refresh token (three months) only with `offline_access`.
TESLA = Profile(access_ttl=28_800, refresh_needs_offline_access=True)

# be.ENERGISED: session tokens last 60 minutes; every session has its refresh token.
BEENERGISED = Profile(access_ttl=3_600)
