"""Tables of be.ENERGISED's charging preconditions and remote charging (issue 15): a user's
contracts, payment methods and charging cards, and the sessions started from an app."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

# A user's contract with a rate. The IBAN of a SEPA contract is stored sealed (envelope
# encryption, opened by nothing that answers a request) beside a masked copy for display.
contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("rate_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("payment_method_id", sa.String(36), nullable=False),
    sa.Column("account_holder", sa.String(70), nullable=True),
    sa.Column("bank", sa.String(140), nullable=True),
    sa.Column("bic", sa.String(11), nullable=True),
    sa.Column("iban_masked", sa.String(48), nullable=True),
    sa.Column("iban_sealed", sa.Text, nullable=True),
    sa.Column("debit_type", sa.String(8), nullable=True),
    sa.Column("use_parent", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_contracts_user", "user_id", "id"),
)

# How a user pays: made by a contract (sepaAccount or invoice); a revoked one pays nothing.
payment_methods = sa.Table(
    "payment_methods",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("payment_type", sa.String(16), nullable=False),
    sa.Column("application_id", sa.String(64), nullable=True),
    sa.Column("contract_id", sa.String(36), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Index("ix_payment_methods_user", "user_id", "id"),
)

# A user's charging cards; `seq` numbers them per user, so two first contracts made at once
# issue one first card.
charging_cards = sa.Table(
    "charging_cards",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("tag_id", sa.String(32), nullable=False, unique=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("type", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("user_id", "seq", name="uq_charging_cards_seq"),
)

# A charging session started from an app. `open_key` (card and connector) is set while the
# session may still charge and cleared when it ends: one open session per card and connector.
remote_sessions = sa.Table(
    "remote_sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("card_id", sa.String(36), sa.ForeignKey("charging_cards.id"), nullable=False),
    sa.Column("tag_id", sa.String(32), nullable=False),
    sa.Column("connector_id", sa.String(200), nullable=False),
    sa.Column("charge_point_id", sa.String(200), nullable=False),
    sa.Column("device_id", sa.String(64), nullable=False),
    sa.Column("operator_id", sa.String(64), nullable=False),
    sa.Column("connector", sa.Integer, nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=False),
    sa.Column("start_command_id", sa.String(64), nullable=True),
    sa.Column("stop_command_id", sa.String(64), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("open_key", sa.String(250), nullable=True, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("stopped_at", sa.Float, nullable=True),
    sa.Index("ix_remote_sessions_user", "user_id", "id"),
)
