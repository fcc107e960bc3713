"""SQL implementations of the delegated-access stores (users, codes, families, refresh tokens).

Rotation is one transaction whose first statement is the compare-and-set UPDATE, so on SQLite
it takes the write lock before reading and on PostgreSQL the row lock serialises racers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import (
    authorization_codes,
    partner_accounts,
    refresh_tokens,
    token_families,
    users,
)
from voltgate.identity.partners import PartnerAccount
from voltgate.identity.stores import CodeRecord, Family, RefreshRecord
from voltgate.identity.users import User


def _user(row: Any) -> User:
    return User(row.id, row.email, row.display_name, row.created_at, row.disabled_at)


class SqlUserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user: User, password_hash: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                users.insert().values(
                    id=user.id,
                    email=user.email,
                    display_name=user.display_name,
                    password_hash=password_hash,
                    created_at=user.created_at,
                )
            )

    async def by_email(self, email: str) -> tuple[User, str] | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(users.select().where(users.c.email == email))).first()
        return None if row is None else (_user(row), row.password_hash)

    async def get(self, user_id: str) -> User | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(users.select().where(users.c.id == user_id))).first()
        return None if row is None else _user(row)

    async def list_all(self) -> list[User]:
        async with self._db.connect() as conn:
            rows = await conn.execute(users.select().order_by(users.c.created_at))
            return [_user(r) for r in rows]

    async def set_password(self, user_id: str, password_hash: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(password_hash=password_hash)
            )

    async def disable(self, user_id: str, at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                users.update()
                .where(users.c.id == user_id, users.c.disabled_at.is_(None))
                .values(disabled_at=at)
            )


def _code(row: Any) -> CodeRecord:
    return CodeRecord(
        row.code_hash,
        row.client_id,
        row.user_id,
        row.redirect_uri,
        row.scope,
        row.nonce,
        row.code_challenge,
        row.auth_time,
        row.family_id,
        row.expires_at,
        row.used_at,
    )


def _refresh(row: Any) -> RefreshRecord:
    return RefreshRecord(
        row.token_hash,
        row.family_id,
        row.client_id,
        row.user_id,
        row.scope,
        row.created_at,
        row.expires_at,
        row.consumed_at,
        row.successor_sealed,
    )


class SqlDelegationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_code(self, code: CodeRecord) -> None:
        async with self._db.begin() as conn:
            await conn.execute(authorization_codes.insert().values(**_fields(code)))

    async def get_code(self, code_hash: str) -> CodeRecord | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    authorization_codes.select().where(authorization_codes.c.code_hash == code_hash)
                )
            ).first()
        return None if row is None else _code(row)

    async def claim_code(self, code_hash: str, now: float) -> bool:
        async with self._db.begin() as conn:
            claimed = await conn.execute(
                authorization_codes.update()
                .where(
                    authorization_codes.c.code_hash == code_hash,
                    authorization_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
            return bool(claimed.rowcount)

    async def create_family(self, family: Family) -> None:
        async with self._db.begin() as conn:
            await conn.execute(token_families.insert().values(**_fields(family)))

    async def family(self, family_id: str) -> Family | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(token_families.select().where(token_families.c.id == family_id))
            ).first()
        if row is None:
            return None
        return Family(row.id, row.client_id, row.user_id, row.scope, row.created_at, row.revoked_at)

    async def revoke_family(self, family_id: str, now: float, reason: str) -> bool:
        async with self._db.begin() as conn:
            result = await conn.execute(
                token_families.update()
                .where(token_families.c.id == family_id, token_families.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
            )
            return bool(result.rowcount)

    async def revoked_families(self, since: float) -> list[tuple[str, float]]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(token_families.c.id, token_families.c.revoked_at).where(
                    token_families.c.revoked_at > since
                )
            )
            return [(r.id, r.revoked_at) for r in rows]

    async def add_refresh(self, token: RefreshRecord) -> None:
        async with self._db.begin() as conn:
            await conn.execute(refresh_tokens.insert().values(**_fields(token)))

    async def get_refresh(self, token_hash: str) -> RefreshRecord | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    refresh_tokens.select().where(refresh_tokens.c.token_hash == token_hash)
                )
            ).first()
        return None if row is None else _refresh(row)

    async def rotate_refresh(
        self, token_hash: str, now: float, successor: RefreshRecord, sealed_pair: str
    ) -> bool:
        async with self._db.begin() as conn:
            won = await conn.execute(
                refresh_tokens.update()
                .where(
                    refresh_tokens.c.token_hash == token_hash,
                    refresh_tokens.c.consumed_at.is_(None),
                )
                .values(consumed_at=now, successor_sealed=sealed_pair)
            )
            if not won.rowcount:
                return False
            await conn.execute(refresh_tokens.insert().values(**_fields(successor)))
            return True


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


class SqlPartnerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, account: PartnerAccount) -> PartnerAccount:
        async with self._db.begin() as conn:
            existing = (
                await conn.execute(
                    partner_accounts.select().where(
                        partner_accounts.c.client_id == account.client_id
                    )
                )
            ).first()
            if existing is None:
                await conn.execute(partner_accounts.insert().values(**_fields(account)))
                return account
            await conn.execute(
                partner_accounts.update()
                .where(partner_accounts.c.client_id == account.client_id)
                .values(domain=account.domain, updated_at=account.updated_at)
            )
            return PartnerAccount(
                account.client_id, account.domain, existing.created_at, account.updated_at
            )

    async def get(self, client_id: str) -> PartnerAccount | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    partner_accounts.select().where(partner_accounts.c.client_id == client_id)
                )
            ).first()
        if row is None:
            return None
        return PartnerAccount(row.client_id, row.domain, row.created_at, row.updated_at)
