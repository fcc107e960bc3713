"""the public charge-point catalogue (OCPI 2.2.1's Locations) and its spatial index: SQLite's
R*Tree over each point's unit vector on the embedded default, a PostGIS point with a GiST
index on PostgreSQL (the `postgis` extension is created here)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

POSTGIS_MISSING = (
    "the charge-point search needs PostGIS on PostgreSQL: install the Debian package "
    "postgresql-15-postgis-3 (apt-get install -y postgresql-15-postgis-3) or your platform's "
    "PostGIS 3 for this server, then run `voltgate db upgrade` again"
)
POSTGIS_NOT_CREATED = (
    "PostGIS is installed but `CREATE EXTENSION postgis` needs a superuser: run it once as one "
    "in this database (psql -U postgres -d <database> -c 'CREATE EXTENSION postgis'), then "
    "`voltgate db upgrade` again"
)


def upgrade() -> None:
    op.create_table(
        "charge_points",
        sa.Column(
            "key",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("opening_times", sa.String(500), nullable=True),
        sa.Column("twentyfourseven", sa.Boolean, nullable=False),
        sa.Column("evses", sa.Text, nullable=False),
        sa.Column("status_mask", sa.Integer, nullable=False),
        sa.Column("standard_mask", sa.BigInteger, nullable=False),
        sa.Column("max_power", sa.Integer, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True, unique=True),
        sa.Column("site_id", sa.String(64), nullable=True),
        sa.Column("operator_id", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        # 32-bit integer coordinates (2^30 a unit: ~6 mm); a point's box is the point itself.
        op.execute(
            "CREATE VIRTUAL TABLE charge_point_positions USING rtree_i32("
            "key, x_min, x_max, y_min, y_max, z_min, z_max)"
        )
        return
    _create_postgis()
    # A lon/lat point for the GiST index (a box around the radius finds the candidates), its
    # unit vector for the exact great-circle test (plain arithmetic), the filters beside them:
    # a search reads this table alone (measured: 2.5x faster than geography's ST_DWithin).
    op.execute(
        """CREATE TABLE charge_point_positions (
            key BIGINT PRIMARY KEY REFERENCES charge_points (key) ON DELETE CASCADE,
            position geometry(Point, 4326) NOT NULL,
            x DOUBLE PRECISION NOT NULL,
            y DOUBLE PRECISION NOT NULL,
            z DOUBLE PRECISION NOT NULL,
            status_mask INTEGER NOT NULL,
            standard_mask BIGINT NOT NULL,
            max_power INTEGER NOT NULL)"""
    )
    op.execute(
        "CREATE INDEX ix_charge_point_positions ON charge_point_positions USING gist (position)"
    )


def _create_postgis() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first():
        return
    available = sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    if bind.execute(available).first() is None:
        raise RuntimeError(POSTGIS_MISSING)
    superuser = bind.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if not superuser.scalar():
        raise RuntimeError(POSTGIS_NOT_CREATED)
    op.execute("CREATE EXTENSION postgis")


def downgrade() -> None:
    op.execute("DROP TABLE charge_point_positions")
    op.drop_table("charge_points")
    # PostGIS stays: other objects of the database may use it.
