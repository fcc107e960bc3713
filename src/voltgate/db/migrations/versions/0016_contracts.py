"""be.ENERGISED's contracts, payment methods, charging cards and remote sessions

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contracts",
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
    )
    op.create_index("ix_contracts_user", "contracts", ["user_id", "id"])
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("payment_type", sa.String(16), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=True),
        sa.Column("contract_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_index("ix_payment_methods_user", "payment_methods", ["user_id", "id"])
    op.create_table(
        "charging_cards",
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
    op.create_table(
        "remote_sessions",
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
    )
    op.create_index("ix_remote_sessions_user", "remote_sessions", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_remote_sessions_user", "remote_sessions")
    op.drop_table("remote_sessions")
    op.drop_table("charging_cards")
    op.drop_index("ix_payment_methods_user", "payment_methods")
    op.drop_table("payment_methods")
    op.drop_index("ix_contracts_user", "contracts")
    op.drop_table("contracts")
