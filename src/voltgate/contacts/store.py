"""What the contacts area stores, and the storage it needs."""

from __future__ import annotations

from typing import Protocol


class ContactStore(Protocol):
    async def add_username(self, user_id: str, username: str, at: float) -> bool:
        """False if the name is taken (or the user has one already)."""

    async def user_by_username(self, username: str) -> str | None: ...

    async def username_of(self, user_id: str) -> str | None: ...

    async def linked(self, issuer: str, subject: str) -> str | None:
        """The user an external IdP's subject signs in as."""

    async def link(self, issuer: str, subject: str, user_id: str, at: float) -> str:
        """Link the subject to `user_id` unless it already is linked: the user it signs in as."""
