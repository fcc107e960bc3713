"""Local user accounts: argon2id passwords, throttled sign-in without user enumeration."""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.errors import Conflict, InvalidGrant, NotFound, RateLimited, ValidationFailed
from voltgate.identity.stores import UserStore
from voltgate.ids import new_id

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
BAD_LOGIN = "the email or password is incorrect"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    display_name: str
    created_at: float
    disabled_at: float | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if not 8 <= len(password) <= 1024:
        raise ValidationFailed("password must be 8 to 1024 characters")


@functools.cache
def _decoy() -> str:
    """A real hash (argon2id, the defaults every password gets) to verify against when the
    email is unknown: same cost, same timing. Made once per process on first need, on the
    verifying thread (~0.13 s: not on every start of a CLI or a runtime)."""
    return PasswordHasher().hash(secrets.token_urlsafe(16))


class Users:
    def __init__(
        self,
        store: UserStore,
        coordinator: Coordinator,
        clock: Clock,
        *,
        per_account: int = 10,
        per_address: int = 50,
        window: int = 300,
    ) -> None:
        self._store = store
        self._coordinator = coordinator
        self._clock = clock
        self._hasher = PasswordHasher()  # argon2id with the library's current defaults
        self._per_account = per_account
        self._per_address = per_address
        self._window = window

    async def create(self, email: str, password: str, display_name: str | None = None) -> User:
        email = normalize_email(email)
        if not _EMAIL.match(email):
            raise ValidationFailed("email is not a valid address")
        _check_password(password)
        if await self._store.by_email(email) is not None:
            raise Conflict("a user with this email already exists")
        name = (display_name or email.split("@", 1)[0]).strip()[:200]
        user = User(new_id("user"), email, name, self._clock.now())
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        await self._store.create(user, password_hash)
        return user

    async def authenticate(self, email: str, password: str, address: str | None) -> User:
        """The user, or InvalidGrant with one message for every failure (no enumeration).

        Each attempt counts against the account and the address before the password is
        checked (so parallel guesses are counted too); a successful one is taken back, and
        clears the account's count: only failures add up to the limits."""
        email = normalize_email(email)
        account = f"login:acct:{email[:320]}"
        hits = [(account, self._per_account)]
        if address:
            hits.append((f"login:addr:{address}", self._per_address))
        for decision in await self._coordinator.hit_many(hits, self._window):
            if not decision.allowed:
                raise RateLimited(
                    f"too many sign-in attempts; try again in {decision.retry_after} s",
                    decision.retry_after,
                )
        found = await self._store.by_email(email)
        stored = found[1] if found else None
        valid = await asyncio.to_thread(self._verify, stored, password[:1024])
        if found is None or not valid or found[0].disabled_at is not None:
            raise InvalidGrant(BAD_LOGIN)
        await self._coordinator.unhit(account, self._window, clear=True)
        if address:
            await self._coordinator.unhit(f"login:addr:{address}", self._window)
        return found[0]

    async def set_password(self, user_id: str, password: str) -> None:
        """Replace the user's password (argon2id); the old one stops working at once."""
        _check_password(password)
        await self.get(user_id)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        await self._store.set_password(user_id, password_hash)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored or _decoy(), password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def by_email(self, email: str) -> User | None:
        found = await self._store.by_email(normalize_email(email))
        return None if found is None else found[0]

    async def find(self, user_id: str) -> User | None:
        return await self._store.get(user_id)

    async def get(self, user_id: str) -> User:
        user = await self._store.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id!r}")
        return user

    async def list_all(self) -> list[User]:
        return await self._store.list_all()

    async def disable(self, user_id: str) -> User:
        await self.get(user_id)
        await self._store.disable(user_id, self._clock.now())
        return await self.get(user_id)
