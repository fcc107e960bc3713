"""Who a GraphQL request comes from, by its bearer: an application's pre-shared key, a
contact's session token (or an external IdP's access token), or a refresh token.

Each top-level field names the bearer it takes (`ACCESS`); a request whose bearer does not
fit is refused before anything runs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

from voltgate.contacts.service import Contacts
from voltgate.errors import Forbidden, InvalidToken, MissingToken, VoltgateError
from voltgate.identity.client_auth import ClientAuthenticator
from voltgate.identity.clients import Client, ClientKind
from voltgate.identity.delegation import Delegation
from voltgate.identity.external import ExternalTokens
from voltgate.identity.guard import BearerGuard
from voltgate.identity.requests import OAuthRequest
from voltgate.identity.secrets import CredentialFormat


class Bearer(Enum):
    NONE = "none"
    APP = "the application's pre-shared key"
    CONTACT = "a session token or an external IdP's access token"
    REFRESH = "the session's refresh token"


# What each top-level field takes; every other field takes a contact's token.
ACCESS: dict[str, Bearer] = {
    "registerContact": Bearer.APP,
    "initSession": Bearer.APP,
    "refreshSession": Bearer.REFRESH,
    "__typename": Bearer.NONE,
    "__schema": Bearer.NONE,
    "__type": Bearer.NONE,
}


@dataclass(frozen=True, slots=True)
class Caller:
    bearer: Bearer
    client: Client | None = None  # APP
    user_id: str | None = None  # CONTACT
    token: str | None = None  # REFRESH: the refresh token itself, for refreshSession
    client_id: str | None = None  # CONTACT: the app whose session it is (none: an IdP's token)


ANONYMOUS = Caller(Bearer.NONE)


class Callers:
    def __init__(
        self,
        formats: CredentialFormat,
        apps: ClientAuthenticator,
        guard: BearerGuard,
        delegation: Delegation,
        contacts: Contacts,
        external: ExternalTokens | None,
    ) -> None:
        self._formats = formats
        self._apps = apps
        self._guard = guard
        self._delegation = delegation
        self._contacts = contacts
        self._external = external
        # An external token's user (the token's expiry is checked on every use by `verify`).
        self._linked: OrderedDict[str, str] = OrderedDict()

    async def identify(self, authorization: str | None, request: OAuthRequest) -> Caller:
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("the Authorization header must be 'Bearer <token>'")
        if self._formats.psk_client(token) is not None:
            return Caller(Bearer.APP, client=await self._apps.authenticate_psk(token, request))
        if self._delegation.is_refresh_token(token):
            return Caller(Bearer.REFRESH, token=token)
        if self._external is not None and self._external.recognises(token):
            return Caller(Bearer.CONTACT, user_id=await self._external_user(self._external, token))
        principal = await self._guard.authenticate(authorization)
        if principal.claims.kind != ClientKind.BEENERGISED_APP.value:
            raise InvalidToken("this API takes a be.ENERGISED session token")
        claims = principal.claims
        return Caller(Bearer.CONTACT, user_id=claims.subject, client_id=claims.client_id)

    async def _external_user(self, external: ExternalTokens, token: str) -> str:
        identity = await external.verify(token)  # every time: it checks the expiry
        held = self._linked.get(token)
        if held is not None:
            return held
        user = await self._contacts.external(
            identity.issuer,
            identity.user_claim_value,
            identity.email,
            verified=identity.claims.get("email_verified") is True,
            create=identity.create_users,
        )
        if user is None:
            raise InvalidToken(
                "no contact signs in with this identity (and its IdP may not create contacts)"
            )
        if len(self._linked) >= 10_000:
            self._linked.popitem(last=False)
        self._linked[token] = user.id
        return user.id


def admit(caller: Caller, roots: frozenset[str]) -> VoltgateError | None:
    """Why `caller` may not run an operation with these top-level fields, if it may not."""
    for name in roots:
        needed = ACCESS.get(name, Bearer.CONTACT)
        if needed is Bearer.NONE or needed is caller.bearer:
            continue
        if caller.bearer is Bearer.NONE:
            return MissingToken(f"{name} needs {needed.value} as the bearer token")
        return Forbidden(
            f"{name} needs {needed.value} as the bearer token, not {caller.bearer.value}"
        )
    return None
