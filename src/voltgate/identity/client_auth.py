"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from voltgate.clock import Clock
from voltgate.errors import InvalidClient, InvalidRequest, UnauthorizedClient
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import Client, ClientKind, ClientRegistry
from voltgate.identity.requests import OAuthRequest
from voltgate.identity.secrets import Crypto

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="voltgate", charset="UTF-8"'}
_FAILED = "client authentication failed"
AWAITING_APPROVAL = "this production app is waiting for an administrator's approval"


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    secret: str | None
    basic: bool


def extract(request: OAuthRequest) -> Credentials | None:
    """Credentials from HTTP Basic or the body; using both is refused (RFC 6749 §2.3)."""
    header = request.authorization
    body_id = request.get("client_id")
    body_secret = request.get("client_secret")
    if header and header[:6].lower() == "basic ":
        if body_secret is not None:
            raise InvalidRequest("use one client authentication method, not both")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient(
                "the Basic credentials are not valid base64 UTF-8", BASIC_CHALLENGE
            ) from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep or not raw_id:
            raise InvalidClient(
                "the Basic credentials must be client_id:client_secret", BASIC_CHALLENGE
            )
        # §2.3.1: id and secret are form-urlencoded before Basic encoding.
        client_id, secret = unquote(raw_id.replace("+", " ")), unquote(raw_secret.replace("+", " "))
        if body_id is not None and body_id != client_id:
            raise InvalidRequest("client_id in the body does not match the Basic credentials")
        return Credentials(client_id, secret, basic=True)
    if body_id is None:
        return None
    return Credentials(body_id, body_secret, basic=False)


class ClientAuthenticator:
    def __init__(
        self,
        registry: ClientRegistry,
        crypto: Crypto,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._registry = registry
        self._crypto = crypto
        self._clock = clock
        self._audit = audit

    async def authenticate(
        self,
        request: OAuthRequest,
        *,
        allow_public: bool = False,
        creds: Credentials | None = None,
    ) -> Client:
        """Authenticate the client; `creds` when the caller has already extracted them."""
        creds = creds or extract(request)
        if creds is None:
            raise InvalidClient("client authentication is required")
        headers = BASIC_CHALLENGE if creds.basic else {}
        formats = self._crypto.formats
        foreign = formats.foreign_environment(creds.client_id) or (
            formats.foreign_environment(creds.secret) if creds.secret else None
        )
        if foreign is not None:
            await self._fail(request, creds, "foreign_environment")
            raise InvalidClient(
                f"these credentials belong to the {foreign.value} environment; "
                f"this deployment is {formats.environment.value}",
                headers,
            )
        if len(creds.client_id) > 128 or (creds.secret is not None and len(creds.secret) > 256):
            await self._fail(request, creds, "oversized")
            raise InvalidClient(_FAILED, headers)
        # Hash before the look-up so an unknown client costs the same as a wrong secret.
        presented = self._crypto.hasher.hash(creds.secret) if creds.secret is not None else None
        client = await self._registry.get(creds.client_id)
        if client is None or client.disabled:
            await self._fail(request, creds, "unknown_or_disabled")
            raise InvalidClient(_FAILED, headers)
        if presented is None:
            if allow_public and client.kind.is_public:
                return _approved(client)
            await self._fail(request, creds, "missing_secret")
            raise InvalidClient(_FAILED, headers)
        if not self._matches(client, presented):
            # The cache may predate a rotation made by another process: look once more.
            client = await self._registry.get(creds.client_id, fresh=True)
            if client is None or client.disabled or not self._matches(client, presented):
                await self._fail(request, creds, "bad_secret")
                raise InvalidClient(_FAILED, headers)
        return _approved(client)

    async def authenticate_psk(self, psk: str, request: OAuthRequest) -> Client:
        """A be.ENERGISED app by its pre-shared key alone (the key names its client)."""
        client_id = self._crypto.formats.psk_client(psk) if len(psk) <= 256 else None
        if client_id is None:
            raise InvalidClient("the pre-shared key is not valid")
        creds = Credentials(client_id, psk, basic=False)
        try:
            client = await self.authenticate(request, creds=creds)
        except InvalidClient as refused:
            # The same refusal, in the words of a key sent alone (no Basic challenge).
            if refused.description == _FAILED:
                raise InvalidClient("the pre-shared key is not valid") from None
            raise InvalidClient(refused.description) from None
        if client.kind is not ClientKind.BEENERGISED_APP:
            await self._fail(request, creds, "not_a_psk_client")
            raise InvalidClient("the pre-shared key is not valid")
        return client

    def _matches(self, client: Client, presented: str) -> bool:
        now = self._clock.now()
        matched = False
        for secret in client.secrets:  # no early exit: compare against every secret
            if self._crypto.hasher.matches(presented, secret.secret_hash) and secret.valid_at(now):
                matched = True
        return matched

    async def _fail(self, request: OAuthRequest, creds: Credentials, reason: str) -> None:
        await self._audit.record(
            "client_auth_failed",
            client_id=creds.client_id[:64],
            request_id=request.request_id,
            address=request.address,
            reason=reason,
            method="client_secret_basic" if creds.basic else "client_secret_post",
        )


def _approved(client: Client) -> Client:
    """The client, unless it is a production app an administrator has not approved yet."""
    if client.awaiting_approval:
        raise UnauthorizedClient(AWAITING_APPROVAL)
    return client


__all__ = ["BASIC_CHALLENGE", "ClientAuthenticator", "Credentials", "extract"]
