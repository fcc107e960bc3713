"""Contacts: registering one (a user with a password), the login name a session starts from,
and the user an external IdP's subject signs in as."""

from __future__ import annotations

import re
import secrets

from voltgate.clock import Clock
from voltgate.contacts.store import ContactStore
from voltgate.errors import Conflict, InvalidToken, ValidationFailed
from voltgate.identity.users import User, Users, normalize_email

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,99}$")
# Never an address: an unknown name signs in against it, so it costs what a wrong password does.
_NOBODY = "nobody@invalid"


class Contacts:
    def __init__(self, store: ContactStore, users: Users, clock: Clock) -> None:
        self._store = store
        self._users = users
        self._clock = clock

    async def register(
        self, name: str, email: str, password: str, username: str | None = None
    ) -> User:
        """A new contact: a user who signs in with `email` (or `username`) and `password`."""
        if username is not None:
            _check_username(username)
            if await self._store.user_by_username(username.lower()) is not None:
                raise Conflict("this username is taken")
        user = await self._users.create(email, password, name.strip() or None)
        if username is not None and not await self._store.add_username(
            user.id, username.lower(), self._clock.now()
        ):
            raise Conflict("this username is taken")
        return user

    async def name_user(self, user_id: str, username: str) -> None:
        """Give an existing user a login name (the sandbox's demo contact)."""
        _check_username(username)
        held = await self._store.user_by_username(username.lower())
        if held == user_id:
            return
        if held is not None or not await self._store.add_username(
            user_id, username.lower(), self._clock.now()
        ):
            raise Conflict("this username is taken")

    async def sign_in(self, login: str, password: str, address: str | None) -> User:
        """The user `login` (an email or a username) names, if `password` is theirs."""
        login = login.strip()
        if "@" in login:
            email = login
        else:
            user_id = await self._store.user_by_username(login.lower()) if login else None
            user = None if user_id is None else await self._users.find(user_id)
            email = _NOBODY if user is None else user.email
        return await self._users.authenticate(email, password, address)

    async def external(
        self, issuer: str, subject: str, email: str | None, *, verified: bool, create: bool
    ) -> User | None:
        """The user an external IdP's subject signs in as: linked before, else (with
        `create`) a new user of that email, linked now. A known user of that email is linked
        only when the IdP says it verified the address (else anyone could claim it)."""
        user_id = await self._store.linked(issuer, subject)
        if user_id is None and create:
            user = await self._first_use(email, verified)
            user_id = await self._store.link(issuer, subject, user.id, self._clock.now())
        if user_id is None:
            return None
        found = await self._users.find(user_id)
        if found is None:
            raise InvalidToken("the user this identity signs in as no longer exists")
        return found

    async def username_of(self, user_id: str) -> str | None:
        return await self._store.username_of(user_id)

    async def _first_use(self, email: str | None, verified: bool) -> User:
        if not email:
            raise InvalidToken("the token carries no email to create its user from")
        try:
            return await self._users.create(email, _unusable_password())
        except Conflict:
            found = await self._users.by_email(normalize_email(email))
            if found is None or not verified:
                raise InvalidToken(
                    "an account with this token's email exists and the IdP has not verified "
                    "the address"
                ) from None
            return found


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "username must be 3 to 100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )


def _unusable_password() -> str:
    """A password nobody knows: an IdP's user signs in through the IdP only."""
    return secrets.token_urlsafe(48)
