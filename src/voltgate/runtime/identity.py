"""The identity area: clients, keys, tokens, users, consent, delegation, and the endpoints of
the OAuth2/OIDC core, built once from Settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from voltgate.cache.port import Coordinator
from voltgate.changes import Changes
from voltgate.clock import Clock
from voltgate.config import Environment, Settings
from voltgate.contacts.repository import SqlContactStore
from voltgate.contacts.service import Contacts
from voltgate.db.consent import SqlConsentStore
from voltgate.db.delegation import SqlPartnerStore, SqlUserStore
from voltgate.db.engine import Database
from voltgate.db.readmodels import (
    ConsentReadModel,
    PartnerReadModel,
    UsageRecording,
    UserReadModel,
)
from voltgate.db.signing_modes import SqlSigningModeStore
from voltgate.db.stores import SqlAuditStore, SqlClientStore, SqlKeyStore, SqlRevocationStore
from voltgate.identity.admin import ClientAdmin
from voltgate.identity.audit import AuditLog
from voltgate.identity.client_auth import ClientAuthenticator
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.consent import Consents
from voltgate.identity.delegation import Delegation, DelegationPolicy
from voltgate.identity.endpoints import (
    IntrospectionEndpoint,
    RateLimiter,
    RevocationEndpoint,
    TokenEndpoint,
)
from voltgate.identity.external import ExternalTokens, external_tokens
from voltgate.identity.grants.authorization_code import AuthorizationCodeGrant
from voltgate.identity.grants.client_credentials import ClientCredentialsGrant
from voltgate.identity.grants.refresh_token import RefreshTokenGrant
from voltgate.identity.guard import BearerGuard
from voltgate.identity.keyfetch import PemFetcher
from voltgate.identity.keys import KeyManager
from voltgate.identity.oidc import IdTokens
from voltgate.identity.partners import Partners
from voltgate.identity.revocation import Revocations
from voltgate.identity.secrets import Crypto
from voltgate.identity.signing import RequestVerifier, SignedRequests
from voltgate.identity.stores import DelegationStore
from voltgate.identity.tokens import TokenService
from voltgate.identity.usage import Usage
from voltgate.identity.users import Users


@dataclass(frozen=True, slots=True)
class Identity:
    clients: ClientRegistry
    audit: AuditLog
    keys: KeyManager
    tokens: TokenService
    revocations: Revocations
    users: Users
    contacts: Contacts
    authenticator: ClientAuthenticator
    partners: Partners
    delegation: Delegation
    delegation_store: DelegationStore  # the sandbox's callback page reads a code's app from it
    consents: Consents
    admin: ClientAdmin
    verifier: RequestVerifier
    signatures: SignedRequests
    guard: BearerGuard
    token_endpoint: TokenEndpoint
    revocation_endpoint: RevocationEndpoint
    introspection_endpoint: IntrospectionEndpoint
    # Access tokens of the configured external IdPs; None when none is configured.
    external: ExternalTokens | None
    usage: Usage  # each app's requests, tokens, rate-limit hits and errors per minute


def build_identity(
    settings: Settings,
    clock: Clock,
    db: Database,
    crypto: Crypto,
    coordinator: Coordinator,
    changed: Callable[[str | None], Awaitable[None]],
    changes: Changes,
) -> Identity:
    sandbox = settings.environment is Environment.SANDBOX
    clients = ClientRegistry(SqlClientStore(db), clock)
    usage = Usage(clock.now, clients.known)
    audit = AuditLog(SqlAuditStore(db), clock)
    keys = KeyManager(
        SqlKeyStore(db), crypto.envelope, clock, settings.max_access_token_ttl, settings.clock_skew
    )
    tokens = TokenService(settings, keys, clock)
    apps = ConsentReadModel(SqlConsentStore(db), changes)
    delegation_store = UsageRecording(db, apps)
    revocations = Revocations(
        SqlRevocationStore(db),
        delegation_store,
        coordinator,
        tokens,
        clock,
        settings.clock_skew,
        settings.max_access_token_ttl,
    )
    users = Users(UserReadModel(SqlUserStore(db), changes), coordinator, clock)
    delegation = Delegation(
        delegation_store,
        crypto,
        clock,
        tokens,
        revocations,
        coordinator,
        audit,
        DelegationPolicy(
            refresh_ttl=settings.refresh_token_ttl,
            grace=settings.refresh_grace_seconds,
            max_access_ttl=settings.max_access_token_ttl,
        ),
        IdTokens(keys, users, clock, settings.issuer),
    )
    admin = ClientAdmin(
        SqlClientStore(db),
        crypto,
        clock,
        settings.max_access_token_ttl,
        changed,
        audit,
        SqlSigningModeStore(db),
    )
    verifier = RequestVerifier(crypto.envelope, coordinator, clock)
    authenticator = ClientAuthenticator(clients, crypto, clock, audit)
    token_endpoint = TokenEndpoint(authenticator, RateLimiter(coordinator, settings), usage)
    for grant in (
        ClientCredentialsGrant(tokens, audit, settings.max_access_token_ttl),
        AuthorizationCodeGrant(delegation),
        RefreshTokenGrant(delegation),
    ):
        token_endpoint.register(grant)
    return Identity(
        clients=clients,
        audit=audit,
        keys=keys,
        tokens=tokens,
        revocations=revocations,
        users=users,
        contacts=Contacts(SqlContactStore(db), users, clock),
        authenticator=authenticator,
        partners=Partners(
            PartnerReadModel(SqlPartnerStore(db), changes),
            clock,
            PemFetcher(sandbox=sandbox),
            sandbox=sandbox,
            issuer=settings.issuer,
        ),
        delegation=delegation,
        delegation_store=delegation_store,
        consents=Consents(apps, revocations, audit, clock),
        admin=admin,
        verifier=verifier,
        signatures=SignedRequests(clients, admin, verifier),
        guard=BearerGuard(tokens, revocations, clients, keys, usage),
        token_endpoint=token_endpoint,
        revocation_endpoint=RevocationEndpoint(
            authenticator, tokens, revocations, audit, delegation
        ),
        introspection_endpoint=IntrospectionEndpoint(
            authenticator, tokens, revocations, clients, clock, delegation
        ),
        external=external_tokens(settings, clock),
        usage=usage,
    )
