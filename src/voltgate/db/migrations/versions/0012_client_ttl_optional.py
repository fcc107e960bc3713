"""an app's token lifetime is optional: NULL when it chose none, so a dialect's path can give
its own platform's (ev.energy's 10 h); existing apps at their kind's default had chosen none

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The kinds' defaults when this revision was written (identity/clients.py).
_DEFAULTS = {
    "operator": 86_400,
    "partner": 86_400,
    "third_party": 3_600,
    "open_source": 3_600,
    "device": 86_400,
}


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.alter_column("token_ttl", existing_type=sa.Integer, nullable=True)
    clients = sa.table("clients", sa.column("kind", sa.String), sa.column("token_ttl", sa.Integer))
    for kind, ttl in _DEFAULTS.items():
        op.execute(
            clients.update()
            .where(clients.c.kind == kind, clients.c.token_ttl == ttl)
            .values(token_ttl=None)
        )


def downgrade() -> None:
    clients = sa.table("clients", sa.column("kind", sa.String), sa.column("token_ttl", sa.Integer))
    for kind, ttl in _DEFAULTS.items():
        op.execute(
            clients.update()
            .where(clients.c.kind == kind, clients.c.token_ttl.is_(None))
            .values(token_ttl=ttl)
        )
    with op.batch_alter_table("clients") as batch:
        batch.alter_column("token_ttl", existing_type=sa.Integer, nullable=False)
