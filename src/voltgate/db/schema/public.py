"""Tables of the public charge-point catalogue (OCPI 2.2.1's Locations, flattened to one row a
point, its EVSEs as JSON).

The spatial index is not declared here: it is SQLite's R*Tree virtual table on the embedded
default and a PostGIS table on PostgreSQL (migration 0015), both named `charge_point_positions`
and keyed by `charge_points.key`; `declared` tells Alembic's comparison to leave them out."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata
from voltgate.db.schema.streaming import PARTITION_PREFIX

POSITIONS = "charge_point_positions"
# The R*Tree's shadow tables (SQLite) and PostGIS's own table (PostgreSQL).
_UNDECLARED = frozenset(
    {POSITIONS, f"{POSITIONS}_node", f"{POSITIONS}_parent", f"{POSITIONS}_rowid", "spatial_ref_sys"}
)

charge_points = sa.Table(
    "charge_points",
    metadata,
    # An integer key: the R*Tree's id and PostGIS table's key (a string cannot be either).
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
    sa.Column("evses", sa.Text, nullable=False),  # JSON, decoded only for the points shown
    # What a search filters on: any EVSE's status and any connector's standard as bits (the
    # order of chargepoints.store.STATUSES / STANDARDS), the most powerful connector in W.
    sa.Column("status_mask", sa.Integer, nullable=False),
    sa.Column("standard_mask", sa.BigInteger, nullable=False),
    sa.Column("max_power", sa.Integer, nullable=False),
    # An operator's charger (one point per device); NULL for an imported public point.
    sa.Column("device_id", sa.String(64), nullable=True, unique=True),
    sa.Column("site_id", sa.String(64), nullable=True),
    sa.Column("operator_id", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
)


def declared(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name`: the tables declared here, not the spatial index's nor the
    telemetry's day partitions on PostgreSQL."""
    if type_ != "table" or name is None:
        return True
    return name not in _UNDECLARED and not name.startswith(PARTITION_PREFIX)
