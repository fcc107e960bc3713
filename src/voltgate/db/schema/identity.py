"""Tables of the identity core: clients, keys, tokens, users, consent, audit."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("grant_types", sa.Text, nullable=False),
    sa.Column("redirect_uris", sa.Text, nullable=False, server_default="[]"),
    sa.Column("token_ttl", sa.Integer, nullable=True),  # NULL: the app chose none
    sa.Column("environment", sa.String(16), nullable=False),
    sa.Column("signing", sa.String(16), nullable=False, server_default="off"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
    # A production app registered in the developer portal, until an admin approves it.
    sa.Column("awaiting_approval_since", sa.Float, nullable=True),
)

client_secrets = sa.Table(
    "client_secrets",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "client_id", sa.String(64), sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Index("ix_client_secrets_client_id", "client_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("private_sealed", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("retired_at", sa.Float, nullable=True),
    # After this instant no unexpired token can carry the key's signature: it leaves the JWKS.
    sa.Column("expires_at", sa.Float, nullable=True),
)

revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=False),
    sa.Index("ix_revoked_tokens_expires_at", "expires_at"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_client_id", "client_id"),
)

# A counter bumped by every admin change (clients, keys) so other processes notice.
state = sa.Table(
    "state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

# Delegated access (issue 3): users, their grants to apps, codes and refresh-token families.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("nonce", sa.String(512), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=True),
    sa.Column("auth_time", sa.Float, nullable=False),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float, nullable=True),
)

# One family per grant (a code redemption): every access and refresh token descends from it.
token_families = sa.Table(
    "token_families",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("revoked_reason", sa.String(64), nullable=True),
    sa.Index("ix_token_families_user_client", "user_id", "client_id"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("consumed_at", sa.Float, nullable=True),
    # The successor pair, sealed, so a repeat within the grace window gets the very same one.
    sa.Column("successor_sealed", sa.Text, nullable=True),
    sa.Index("ix_refresh_tokens_family_id", "family_id"),
    sa.Index("ix_refresh_tokens_user_client", "user_id", "client_id"),
)

# A partner app's registered domain (Tesla partner accounts) and the public key it hosts (the
# P-256 point in hex; NULL for domains registered before keys were read). A domain with a key
# belongs to one app.
_HAS_KEY = sa.text("public_key IS NOT NULL")
partner_accounts = sa.Table(
    "partner_accounts",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("public_key", sa.String(130), nullable=True),
    sa.Index(
        "uq_partner_accounts_domain_key",
        "domain",
        unique=True,
        sqlite_where=_HAS_KEY,
        postgresql_where=_HAS_KEY,
    ),
)

# What each user allowed each app; its rows are the user's "connected apps".
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("granted_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
