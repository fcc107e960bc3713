"""SQL implementations of the identity stores, one for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import (
    client_secrets,
    clients,
    revoked_tokens,
    signing_keys,
    state,
)
from voltgate.db.statements import Statement
from voltgate.identity.clients import Client, ClientKind, ClientSecret
from voltgate.identity.stores import AuditEvent, SealedSecret, StoredKey


def _client(row: Any, secrets: list[ClientSecret]) -> Client:
    return Client(
        id=row.id,
        name=row.name,
        kind=ClientKind(row.kind),
        scopes=tuple(row.scopes.split()),
        grant_types=tuple(row.grant_types.split()),
        token_ttl=row.token_ttl,
        environment=row.environment,
        created_at=row.created_at,
        redirect_uris=tuple(orjson.loads(row.redirect_uris)),
        signing=row.signing,
        disabled_at=row.disabled_at,
        secrets=tuple(secrets),
        awaiting_approval_since=row.awaiting_approval_since,
    )


def _secret(row: Any) -> ClientSecret:
    return ClientSecret(row.id, row.secret_hash, row.created_at, row.expires_at)


class SqlClientStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, client_id: str) -> Client | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(sa.select(clients).where(clients.c.id == client_id))).first()
            if row is None:
                return None
            rows = await conn.execute(
                sa.select(client_secrets)
                .where(client_secrets.c.client_id == client_id)
                .order_by(client_secrets.c.created_at.desc())
            )
            return _client(row, [_secret(r) for r in rows])

    async def list_all(self) -> list[Client]:
        async with self._db.connect() as conn:
            rows = (await conn.execute(sa.select(clients).order_by(clients.c.created_at))).all()
            by_client: dict[str, list[ClientSecret]] = {}
            for r in await conn.execute(
                sa.select(client_secrets).order_by(client_secrets.c.created_at.desc())
            ):
                by_client.setdefault(r.client_id, []).append(_secret(r))
        return [_client(r, by_client.get(r.id, [])) for r in rows]

    async def create(self, client: Client, secret: SealedSecret | None) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                clients.insert().values(
                    id=client.id,
                    name=client.name,
                    kind=client.kind.value,
                    scopes=" ".join(client.scopes),
                    grant_types=" ".join(client.grant_types),
                    redirect_uris=orjson.dumps(list(client.redirect_uris)).decode(),
                    token_ttl=client.token_ttl,
                    environment=client.environment,
                    signing=client.signing,
                    created_at=client.created_at,
                    awaiting_approval_since=client.awaiting_approval_since,
                )
            )
            if secret is not None:
                await conn.execute(_insert_secret(client.id, secret))

    async def rotate_secret(self, client_id: str, new: SealedSecret, old_expire_at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                client_secrets.update()
                .where(client_secrets.c.client_id == client_id)
                .where(
                    sa.or_(
                        client_secrets.c.expires_at.is_(None),
                        client_secrets.c.expires_at > old_expire_at,
                    )
                )
                .values(expires_at=old_expire_at)
            )
            await conn.execute(_insert_secret(client_id, new))

    async def sealed_secrets(self, client_id: str, now: float) -> list[str]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(client_secrets.c.secret_sealed)
                .where(client_secrets.c.client_id == client_id)
                .where(
                    sa.or_(client_secrets.c.expires_at.is_(None), client_secrets.c.expires_at > now)
                )
                .order_by(client_secrets.c.created_at.desc())
            )
            return [r.secret_sealed for r in rows]

    async def approve(self, client_id: str) -> bool:
        async with self._db.begin() as conn:
            result = await conn.execute(
                clients.update()
                .where(clients.c.id == client_id)
                .where(clients.c.awaiting_approval_since.is_not(None))
                .values(awaiting_approval_since=None)
            )
            return bool(result.rowcount)

    async def disable(self, client_id: str, at: float) -> bool:
        async with self._db.begin() as conn:
            result = await conn.execute(
                clients.update()
                .where(clients.c.id == client_id)
                .where(clients.c.disabled_at.is_(None))
                .values(disabled_at=at)
            )
            return bool(result.rowcount)


def _insert_secret(client_id: str, sealed: SealedSecret) -> sa.Insert:
    s = sealed.secret
    return client_secrets.insert().values(
        id=s.id,
        client_id=client_id,
        secret_hash=s.secret_hash,
        secret_sealed=sealed.sealed,
        created_at=s.created_at,
        expires_at=s.expires_at,
    )


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, now: float) -> list[StoredKey]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(signing_keys)
                .where(sa.or_(signing_keys.c.expires_at.is_(None), signing_keys.c.expires_at > now))
                .order_by(signing_keys.c.created_at)
            )
            return [
                StoredKey(
                    r.kid,
                    r.alg,
                    r.private_sealed,
                    r.public_jwk,
                    r.created_at,
                    r.retired_at,
                    r.expires_at,
                )
                for r in rows
            ]

    async def add(self, key: StoredKey, retire_at: float, expire_at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                signing_keys.update()
                .where(signing_keys.c.retired_at.is_(None))
                .values(retired_at=retire_at, expires_at=expire_at)
            )
            await conn.execute(
                signing_keys.insert().values(
                    kid=key.kid,
                    alg=key.alg,
                    private_sealed=key.private_sealed,
                    public_jwk=key.public_jwk,
                    created_at=key.created_at,
                )
            )


class SqlRevocationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, jti: str, client_id: str, expires_at: float, revoked_at: float) -> None:
        async with self._db.begin() as conn:
            exists = await conn.execute(
                sa.select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)
            )
            if exists.first() is None:
                await conn.execute(
                    revoked_tokens.insert().values(
                        jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=revoked_at
                    )
                )

    async def active(self, now: float) -> list[tuple[str, float]]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(revoked_tokens.c.jti, revoked_tokens.c.expires_at).where(
                    revoked_tokens.c.expires_at > now
                )
            )
            return [(r.jti, r.expires_at) for r in rows]


_AUDIT_COLUMNS = ("at", "event", "client_id", "request_id", "address", "detail")
_AUDIT = Statement(
    f"INSERT INTO audit_events ({', '.join(_AUDIT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608 - constants
)


def audit_row(e: AuditEvent) -> tuple[Statement, tuple[Any, ...]]:
    """The statement that writes `e`: for an action's write to carry (`run_together`)."""
    detail = orjson.dumps(e.detail).decode()
    return _AUDIT, (e.at, e.event, e.client_id, e.request_id, e.address, detail)


def audit_values(e: AuditEvent) -> dict[str, Any]:
    """`e` as the `audit_events` row, for a write through SQLAlchemy to carry."""
    return dict(zip(_AUDIT_COLUMNS, audit_row(e)[1], strict=True))


class SqlAuditStore:
    """Each append is one write of the group commit: a statement built once, to the driver."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, events: list[AuditEvent]) -> None:
        if len(events) == 1:
            statement, args = audit_row(events[0])
            await self._db.run(statement, *args)
        elif events:
            await self._db.run_together(*(audit_row(e) for e in events))


class SqlStateStore:
    """A counter in the `state` table: `generation` moves on admin changes (clients, keys),
    `data` when a process that is not a server (the CLI) changed rows read models hold."""

    def __init__(self, db: Database, key: str = "generation") -> None:
        self._db = db
        self.KEY = key

    async def generation(self) -> int:
        async with self._db.connect() as conn:
            value = await conn.scalar(sa.select(state.c.value).where(state.c.key == self.KEY))
            return int(value or 0)

    async def bump(self) -> int:
        async with self._db.begin() as conn:
            updated = await conn.execute(
                state.update().where(state.c.key == self.KEY).values(value=state.c.value + 1)
            )
            if not updated.rowcount:
                await conn.execute(state.insert().values(key=self.KEY, value=1))
            value = await conn.scalar(sa.select(state.c.value).where(state.c.key == self.KEY))
            return int(value or 0)
