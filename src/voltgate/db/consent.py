"""SQL implementation of the consent store: remembered consents and the user's connected apps."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import (
    authorization_codes,
    clients,
    consents,
    refresh_tokens,
    token_families,
)
from voltgate.db.statements import Row, Statement
from voltgate.identity.stores import ConnectedApp, Consent


def _consent(row: Any) -> Consent:
    return Consent(row.user_id, row.client_id, row.scope, row.granted_at, row.updated_at)


# The read model's loads: each consent with its app's name and the last token the app got for
# the user (as `for_user`), rows by position.
_APPS = """SELECT c.user_id, c.client_id, c.scope, c.granted_at, c.updated_at, k.name,
    (SELECT MAX(r.created_at) FROM refresh_tokens r
        WHERE r.user_id = c.user_id AND r.client_id = c.client_id),
    (SELECT MAX(f.created_at) FROM token_families f
        WHERE f.user_id = c.user_id AND f.client_id = c.client_id)
    FROM consents c JOIN clients k ON k.id = c.client_id"""
_ALL_APPS = Statement(f"{_APPS} ORDER BY c.user_id, c.client_id")
_ONE_APP = Statement(f"{_APPS} WHERE c.user_id = ? AND c.client_id = ?")


def _app(row: Row) -> ConnectedApp:
    used = [t for t in (row[6], row[7]) if t is not None]
    consent = Consent(row[0], row[1], row[2], row[3], row[4])
    return ConnectedApp(consent, row[5], max(used, default=None))


class SqlConsentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _key(self, user_id: str, client_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(consents.c.user_id == user_id, consents.c.client_id == client_id)

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(consents.select().where(self._key(user_id, client_id)))
            ).first()
        return None if row is None else _consent(row)

    async def save(self, consent: Consent) -> None:
        async with self._db.begin() as conn:
            updated = await conn.execute(
                consents.update()
                .where(self._key(consent.user_id, consent.client_id))
                .values(scope=consent.scope, updated_at=consent.updated_at)
            )
            if not updated.rowcount:
                await conn.execute(
                    consents.insert().values(
                        user_id=consent.user_id,
                        client_id=consent.client_id,
                        scope=consent.scope,
                        granted_at=consent.granted_at,
                        updated_at=consent.updated_at,
                    )
                )

    async def for_user(self, user_id: str) -> list[ConnectedApp]:
        # "Last used" is the last token the app got for this user: a code redemption starts a
        # family, every refresh adds a refresh-token row.
        last_refresh = (
            sa.select(sa.func.max(refresh_tokens.c.created_at))
            .where(
                refresh_tokens.c.user_id == consents.c.user_id,
                refresh_tokens.c.client_id == consents.c.client_id,
            )
            .scalar_subquery()
        )
        last_family = (
            sa.select(sa.func.max(token_families.c.created_at))
            .where(
                token_families.c.user_id == consents.c.user_id,
                token_families.c.client_id == consents.c.client_id,
            )
            .scalar_subquery()
        )
        query = (
            sa.select(
                consents,
                clients.c.name.label("client_name"),
                last_refresh.label("last_refresh"),
                last_family.label("last_family"),
            )
            .join(clients, clients.c.id == consents.c.client_id)
            .where(consents.c.user_id == user_id)
            .order_by(consents.c.granted_at)
        )
        async with self._db.connect() as conn:
            rows = (await conn.execute(query)).all()
        apps = []
        for row in rows:
            used = [t for t in (row.last_refresh, row.last_family) if t is not None]
            apps.append(ConnectedApp(_consent(row), row.client_name, max(used, default=None)))
        return apps

    async def all(self) -> list[ConnectedApp]:
        """Every user's connected apps (the read model's load)."""
        return [_app(row) for row in await self._db.reader.scan(_ALL_APPS)]

    async def app(self, user_id: str, client_id: str) -> ConnectedApp | None:
        row = await self._db.reader.one(_ONE_APP, user_id, client_id)
        return None if row is None else _app(row)

    async def withdraw(self, user_id: str, client_id: str, now: float) -> tuple[bool, list[str]]:
        live = sa.and_(
            token_families.c.user_id == user_id,
            token_families.c.client_id == client_id,
            token_families.c.revoked_at.is_(None),
        )
        async with self._db.begin() as conn:
            # The write comes first so SQLite takes its lock before reading (see delegation.py).
            deleted = await conn.execute(consents.delete().where(self._key(user_id, client_id)))
            families = [
                r.id for r in await conn.execute(sa.select(token_families.c.id).where(live))
            ]
            # A code issued but not yet redeemed must not start a family after this.
            await conn.execute(
                authorization_codes.update()
                .where(
                    authorization_codes.c.user_id == user_id,
                    authorization_codes.c.client_id == client_id,
                    authorization_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
            if families:
                await conn.execute(
                    token_families.update()
                    .where(token_families.c.id.in_(families))
                    .values(revoked_at=now, revoked_reason="app_disconnected")
                )
        return bool(deleted.rowcount) or bool(families), families
