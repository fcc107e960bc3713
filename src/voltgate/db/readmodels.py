"""Identity's read models: users by id, partner accounts, and each user's connected apps read
from memory, each over its SQL store and implementing the same storage Protocol, kept current
by this process's writes at once and by other processes' within a second.

Users are held without their password hashes: sign-in reads by email from the database.
An app's last use moves on every token it gets for the user (a code redeemed, a refresh):
`UsageRecording` notes it on the held row and the other processes hear of it in a batch
(`Stamps`), never as a row reload.
"""

from __future__ import annotations

from dataclasses import replace

from voltgate.changes import Changes
from voltgate.db.consent import SqlConsentStore
from voltgate.db.delegation import SqlDelegationStore, SqlPartnerStore, SqlUserStore
from voltgate.db.engine import Database
from voltgate.identity.partners import PartnerAccount
from voltgate.identity.stores import ConnectedApp, Consent, Family, RefreshRecord
from voltgate.identity.users import User
from voltgate.readmodel import Index, Table
from voltgate.stamps import Stamps


def _no_owner(_row: object) -> None:
    return None


def _user_id(user: User) -> str:
    return user.id


class UserReadModel:
    def __init__(self, sql: SqlUserStore, changes: Changes) -> None:
        self._sql = sql
        self._table: Table[str, User] = Table(
            "user", changes, Index(_user_id, _no_owner), sql.all, sql.get, str
        )

    async def create(self, user: User, password_hash: str) -> None:
        await self._sql.create(user, password_hash)
        await self._table.stored(user)

    async def by_email(self, email: str) -> tuple[User, str] | None:
        return await self._sql.by_email(email)  # sign-in: the hash is read where it is needed

    async def get(self, user_id: str) -> User | None:
        return (await self._table.ready()).get(user_id)

    async def list_all(self) -> list[User]:
        return await self._sql.list_all()

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self._sql.set_password(user_id, password_hash)

    async def disable(self, user_id: str, at: float) -> None:
        await self._sql.disable(user_id, at)
        await self._table.stored(keys=(user_id,))


def _partner_id(account: PartnerAccount) -> str:
    return account.client_id


def _keyed_domain(account: PartnerAccount) -> str | None:
    return None if account.public_key is None else account.domain


class PartnerReadModel:
    """Partner accounts by app, and those with a key by domain (each domain has one)."""

    def __init__(self, sql: SqlPartnerStore, changes: Changes) -> None:
        self._sql = sql
        self._table: Table[str, PartnerAccount] = Table(
            "partner", changes, Index(_partner_id, _keyed_domain), sql.all, sql.get, str
        )

    async def upsert(self, account: PartnerAccount) -> PartnerAccount:
        stored = await self._sql.upsert(account)
        await self._table.stored(stored)
        return stored

    async def get(self, client_id: str) -> PartnerAccount | None:
        return (await self._table.ready()).get(client_id)

    async def by_domain(self, domain: str) -> PartnerAccount | None:
        held = (await self._table.ready()).owned(domain)
        return held[0] if held else None


def _app_key(user_id: str, client_id: str) -> str:
    return f"{user_id} {client_id}"  # neither id has a space (nor a ',' or '@')


def _key_of(app: ConnectedApp) -> str:
    return _app_key(app.consent.user_id, app.consent.client_id)


def _app_user(app: ConnectedApp) -> str:
    return app.consent.user_id


def _granted_at(app: ConnectedApp) -> float:
    return app.consent.granted_at


class ConsentReadModel:
    """Consents with their app's name and last use, by (user, app) and by user."""

    def __init__(self, sql: SqlConsentStore, changes: Changes) -> None:
        self._sql = sql
        self._used = Stamps("app-used", changes, self._heard)
        self._table: Table[str, ConnectedApp] = Table(
            "consent", changes, Index(_key_of, _app_user), self._load_all, self._load_one, str
        )

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        app = (await self._table.ready()).get(_app_key(user_id, client_id))
        return None if app is None else app.consent

    async def save(self, consent: Consent) -> None:
        await self._sql.save(consent)
        await self._table.stored(keys=(_app_key(consent.user_id, consent.client_id),))

    async def for_user(self, user_id: str) -> list[ConnectedApp]:
        return sorted((await self._table.ready()).owned(user_id), key=_granted_at)

    async def withdraw(self, user_id: str, client_id: str, now: float) -> tuple[bool, list[str]]:
        result = await self._sql.withdraw(user_id, client_id, now)
        key = _app_key(user_id, client_id)
        self._used.forget(key)  # a later consent loads its last use afresh
        await self._table.stored(keys=(key,))
        return result

    async def used(self, user_id: str, client_id: str, at: float) -> None:
        """The app got a token for the user at `at` (committed)."""
        key = _app_key(user_id, client_id)
        if await self._used.advance(key, at):
            self._note(key, at)

    async def _heard(self, key: str, at: float) -> None:
        self._note(key, at)  # no consent held: nothing shows it (a consent loads its last use)

    def _note(self, key: str, at: float) -> None:
        held = self._table.index.get(key)
        if held is not None and (held.last_used_at is None or held.last_used_at < at):
            self._table.index.put(replace(held, last_used_at=at))

    def _merged(self, app: ConnectedApp) -> ConnectedApp:
        at = self._used.merged(_key_of(app), app.last_used_at)
        return app if at == app.last_used_at else replace(app, last_used_at=at)

    async def _load_all(self) -> list[ConnectedApp]:
        apps = await self._sql.all()
        return [self._merged(app) for app in apps]  # uses noted while the rows were read

    async def _load_one(self, key: str) -> ConnectedApp | None:
        user_id, _, client_id = key.partition(" ")
        app = await self._sql.app(user_id, client_id)
        return None if app is None else self._merged(app)


class UsageRecording(SqlDelegationStore):
    """The delegation store, telling the connected apps each time an app got tokens for a
    user (a code redeemed, a refresh), once committed."""

    def __init__(self, db: Database, apps: ConsentReadModel) -> None:
        super().__init__(db)
        self._apps = apps

    async def create_family(self, family: Family) -> None:
        await super().create_family(family)
        await self._apps.used(family.user_id, family.client_id, family.created_at)

    async def add_refresh(self, token: RefreshRecord) -> None:
        await super().add_refresh(token)
        await self._apps.used(token.user_id, token.client_id, token.created_at)

    async def rotate_refresh(
        self, token_hash: str, now: float, successor: RefreshRecord, sealed_pair: str
    ) -> bool:
        won = await super().rotate_refresh(token_hash, now, successor, sealed_pair)
        if won:
            await self._apps.used(successor.user_id, successor.client_id, successor.created_at)
        return won
