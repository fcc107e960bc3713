"""Tables of be.ENERGISED's contacts: a user's login name, and the external IdP subjects that
sign in as a user."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

# A user as be.ENERGISED knows them (a contact): the name they sign in with besides their email.
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

# An external IdP's subject (an Auth0 user) and the user it signs in as.
external_identities = sa.Table(
    "external_identities",
    metadata,
    sa.Column("issuer", sa.String(500), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
