"""The one MetaData every table is defined on."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
