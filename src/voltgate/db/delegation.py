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
    refresh_tokens,
    token_families,
    users,
)
from voltgate.db.statements import Row, Statement
from voltgate.errors import Conflict
from voltgate.identity.partners import PartnerAccount
from voltgate.identity.stores import CodeRecord, Family, RefreshRecord
from voltgate.identity.users import User


def _user(row: Any) -> User:
    return User(row.id, row.email, row.display_name, row.created_at, row.disabled_at)


# The read models' loads (rows by position; never a password hash).
_ALL_USERS = Statement(
    "SELECT id, email, display_name, created_at, disabled_at FROM users ORDER BY id"
)
_PARTNER_COLUMNS = (
    "SELECT client_id, domain, created_at, updated_at, public_key FROM partner_accounts"
)
_ALL_PARTNERS = Statement(f"{_PARTNER_COLUMNS} ORDER BY client_id")
_PARTNER = Statement(f"{_PARTNER_COLUMNS} WHERE client_id = ?")
_PARTNER_AT = Statement(f"{_PARTNER_COLUMNS} WHERE domain = ? AND public_key IS NOT NULL")
# A domain taken by another app's key fails the unique index: IntegrityError on both databases.
_UPSERT_PARTNER = sa.text(
    "INSERT INTO partner_accounts (client_id, domain, created_at, updated_at, public_key)"
    " VALUES (:client_id, :domain, :created_at, :updated_at, :public_key)"
    " ON CONFLICT (client_id) DO UPDATE SET domain = excluded.domain,"
    " updated_at = excluded.updated_at, public_key = excluded.public_key"
    " RETURNING client_id, domain, created_at, updated_at, public_key"
)


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

    async def all(self) -> list[User]:
        """Every user, without password hashes (the read model's load)."""
        return [User(*row) for row in await self._db.reader.scan(_ALL_USERS)]

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


# The refresh path's statements are built once: building one costs more than running it.
# A refresh token beside its family's columns (prefixed family_; the token's family_id is the id).
_token_and_family = (
    sa.select(
        refresh_tokens,
        *(c.label(f"family_{c.name}") for c in token_families.c if c.name != "id"),
    )
    .join(token_families, token_families.c.id == refresh_tokens.c.family_id)
    .where(refresh_tokens.c.token_hash == sa.bindparam("token_hash"))
)
_consume_refresh = (
    refresh_tokens.update()
    .where(
        refresh_tokens.c.token_hash == sa.bindparam("consumed"),
        refresh_tokens.c.consumed_at.is_(None),
    )
    .values(consumed_at=sa.bindparam("now"), successor_sealed=sa.bindparam("sealed"))
)


class SqlDelegationStore:
    """On the token path: each operation is one `Database.read`/`write` (one hop on SQLite)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_code(self, code: CodeRecord) -> None:
        await self._db.write(lambda conn: conn.execute(authorization_codes.insert(), _fields(code)))

    async def get_code(self, code_hash: str) -> CodeRecord | None:
        query = authorization_codes.select().where(authorization_codes.c.code_hash == code_hash)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _code(row)

    async def claim_code(self, code_hash: str, now: float) -> bool:
        claim = (
            authorization_codes.update()
            .where(
                authorization_codes.c.code_hash == code_hash,
                authorization_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return await self._db.write(lambda conn: bool(conn.execute(claim).rowcount))

    async def create_family(self, family: Family) -> None:
        await self._db.write(lambda conn: conn.execute(token_families.insert(), _fields(family)))

    async def revoke_family(self, family_id: str, now: float, reason: str) -> bool:
        revoke = (
            token_families.update()
            .where(token_families.c.id == family_id, token_families.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        return await self._db.write(lambda conn: bool(conn.execute(revoke).rowcount))

    async def revoked_families(self, since: float) -> list[tuple[str, float]]:
        query = sa.select(token_families.c.id, token_families.c.revoked_at).where(
            token_families.c.revoked_at > since
        )
        rows = await self._db.read(lambda conn: conn.execute(query).all())
        return [(r.id, r.revoked_at) for r in rows]

    async def add_refresh(self, token: RefreshRecord) -> None:
        await self._db.write(lambda conn: conn.execute(refresh_tokens.insert(), _fields(token)))

    async def get_refresh(self, token_hash: str) -> tuple[RefreshRecord, Family] | None:
        params = {"token_hash": token_hash}
        row = await self._db.read(lambda conn: conn.execute(_token_and_family, params).first())
        if row is None:
            return None
        family = Family(
            row.family_id,
            row.family_client_id,
            row.family_user_id,
            row.family_scope,
            row.family_created_at,
            row.family_revoked_at,
        )
        return _refresh(row), family

    async def rotate_refresh(
        self, token_hash: str, now: float, successor: RefreshRecord, sealed_pair: str
    ) -> bool:
        consume = {"consumed": token_hash, "now": now, "sealed": sealed_pair}

        def rotate(conn: sa.Connection) -> bool:
            if not conn.execute(_consume_refresh, consume).rowcount:
                return False
            conn.execute(refresh_tokens.insert(), _fields(successor))
            return True

        return await self._db.write(rotate)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def _partner(row: Row) -> PartnerAccount:
    client_id, domain, created_at, updated_at, public_key = row
    point = None if public_key is None else bytes.fromhex(public_key)
    return PartnerAccount(client_id, domain, float(created_at), float(updated_at), point)


class SqlPartnerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, account: PartnerAccount) -> PartnerAccount:
        """Insert, or move the app's account to this domain and key (its `created_at` kept)."""
        values = {
            "client_id": account.client_id,
            "domain": account.domain,
            "created_at": account.created_at,
            "updated_at": account.updated_at,
            "public_key": None if account.public_key is None else account.public_key.hex(),
        }
        try:
            row = await self._db.write(lambda conn: conn.execute(_UPSERT_PARTNER, values).one())
        except sa.exc.IntegrityError:
            raise Conflict(f"the domain {account.domain} is registered by another app") from None
        return _partner(row)

    async def get(self, client_id: str) -> PartnerAccount | None:
        row = await self._db.reader.one(_PARTNER, client_id)
        return None if row is None else _partner(row)

    async def by_domain(self, domain: str) -> PartnerAccount | None:
        row = await self._db.reader.one(_PARTNER_AT, domain)
        return None if row is None else _partner(row)

    async def all(self) -> list[PartnerAccount]:
        """Every partner account (the read model's load)."""
        return [_partner(row) for row in await self._db.reader.scan(_ALL_PARTNERS)]
