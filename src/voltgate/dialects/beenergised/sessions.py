"""Contacts and their sessions: registerContact and initSession (with the application's
pre-shared key), refreshSession (with the refresh token), me.

A session is a token family of the core (identity.delegation): its session token is an access
token of the app, its refresh token rotates on every use with the same grace window and reuse
detection as OAuth refresh tokens.
"""

from __future__ import annotations

from typing import Any

from voltgate.contacts.service import Contacts
from voltgate.dialects.beenergised.context import Info
from voltgate.identity.clients import Client, ClientKind, ClientRegistry
from voltgate.identity.delegation import Delegation
from voltgate.identity.users import User, Users

Resolver = Any


def _profile(user: User, username: str | None = None) -> dict[str, Any]:
    return {"id": user.id, "name": user.display_name, "email": user.email, "username": username}


def _session(pair: dict[str, Any]) -> dict[str, Any]:
    return {
        "sessionToken": pair["access_token"],
        "refreshToken": pair["refresh_token"],
        "expiresIn": pair["expires_in"],
    }


class Sessions:
    def __init__(
        self, contacts: Contacts, users: Users, delegation: Delegation, clients: ClientRegistry
    ) -> None:
        self._contacts = contacts
        self._users = users
        self._delegation = delegation
        self._clients = clients

    async def register_contact(
        self, _root: None, info: Info, contactProfile: dict[str, Any]
    ) -> dict[str, Any]:
        user = await self._contacts.register(
            contactProfile["name"], contactProfile["email"], contactProfile["password"]
        )
        return {"profile": _profile(user)}

    async def init_session(
        self, _root: None, info: Info, username: str, password: str
    ) -> dict[str, Any]:
        context = info.context
        client = context.caller.client
        assert client is not None, "admitted without its pre-shared key"
        user = await self._contacts.sign_in(username, password, context.request.address)
        return _session(await self._delegation.start_session(client, user.id, context.request))

    async def refresh_session(self, _root: None, info: Info) -> dict[str, Any]:
        context = info.context
        token = context.caller.token
        assert token is not None, "admitted without a refresh token"
        return _session(
            await self._delegation.refresh_bearer(token, context.request, self._session_app)
        )

    async def _session_app(self, client_id: str) -> Client | None:
        """The app a session's refresh token was issued to, while it may refresh sessions."""
        client = await self._clients.get(client_id)
        if client is None or client.disabled or client.kind is not ClientKind.BEENERGISED_APP:
            return None
        return client

    async def me(self, _root: None, info: Info) -> dict[str, Any]:
        user_id = info.context.user_id
        user = await self._users.get(user_id)
        return _profile(user, await self._contacts.username_of(user_id))

    def resolvers(self) -> dict[str, dict[str, Resolver]]:
        return {
            "Query": {"me": self.me},
            "Mutation": {
                "registerContact": self.register_contact,
                "initSession": self.init_session,
                "refreshSession": self.refresh_session,
            },
        }
