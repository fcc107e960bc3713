"""Consent: what a user allowed an app, remembered per (user, app), and the connected-apps view.

A request for no more than what was granted skips the consent page (OIDC Core §3.1.2.4);
disconnecting an app withdraws the consent and revokes every token family of that grant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voltgate.clock import Clock
from voltgate.identity.audit import AuditLog
from voltgate.identity.revocation import Revocations
from voltgate.identity.stores import ConnectedApp, Consent, ConsentStore

# Told (user_id, client_id) when a user disconnects an app: what else the app loses goes too.
Disconnected = Callable[[str, str], Awaitable[None]]
# The words a consent page shows for each scope: what the app will be able to do.
_SCOPE_TEXT = {
    "openid": "Confirm who you are (your account identifier)",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Keep this access while you are away (up to 3 months without signing in)",
    "user_data": "See your profile and account details",
    "vehicle_device_data": "See your vehicles' live data: charge state, climate, odometer",
    "vehicle_location": "See where your vehicles are",
    "vehicle_cmds": "Send commands to your vehicles: lock, unlock, climate, horn and lights",
    "vehicle_charging_cmds": "Start and stop charging and change charge limits and schedules",
    "energy_device_data": "See your energy sites' live status and history",
    "energy_cmds": "Change your energy sites' settings: backup reserve, mode, storm watch",
    "read": "See your sites, chargers and charging records",
    "write": "Control your chargers: start, stop and schedule charging",
}
_VERBS = {"read": "See", "write": "Change", "control": "Control", "manage": "Manage"}
# The scopes a user can grant an app on the consent page (what a developer may ask for).
CONSENT_SCOPES = (*_SCOPE_TEXT, "charging_session:read", "vehicle:read")


def describe_scope(scope: str) -> str:
    """Plain words for a scope, including ev.energy's `resource:action` form."""
    text = _SCOPE_TEXT.get(scope)
    if text is not None:
        return text
    resource, sep, action = scope.partition(":")
    if sep and action in _VERBS and resource:
        return f"{_VERBS[action]} your {resource.replace('_', ' ')} data"
    return f"Access labelled “{scope}”"


class Consents:
    def __init__(
        self, store: ConsentStore, revocations: Revocations, audit: AuditLog, clock: Clock
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._audit = audit
        self._clock = clock
        self._disconnected: list[Disconnected] = []

    def on_disconnect(self, listener: Disconnected) -> None:
        """`listener(user_id, client_id)` after each disconnect, whether a consent was found or
        not: a retry after a listener failed reaches it again."""
        self._disconnected.append(listener)

    async def covers(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> bool:
        consent = await self._store.get(user_id, client_id)
        if consent is None:
            return False
        granted = set(consent.scope.split())
        return all(s in granted for s in scopes)

    async def grant(self, user_id: str, client_id: str, scopes: tuple[str, ...]) -> None:
        """Remember the scopes, added to what was granted before."""
        now = self._clock.now()
        existing = await self._store.get(user_id, client_id)
        granted = existing.scope.split() if existing else []
        merged = " ".join(dict.fromkeys([*granted, *scopes]))
        await self._store.save(
            Consent(user_id, client_id, merged, existing.granted_at if existing else now, now)
        )

    async def apps(self, user_id: str) -> list[ConnectedApp]:
        return await self._store.for_user(user_id)

    async def disconnect(
        self,
        user_id: str,
        client_id: str,
        *,
        request_id: str | None = None,
        address: str | None = None,
    ) -> bool:
        """Withdraw consent; the app's tokens for this user stop working at once."""
        if "\x00" in client_id:
            return False
        found, families = await self._store.withdraw(user_id, client_id, self._clock.now())
        for family_id in families:
            await self._revocations.revoke_family(family_id)
        for listener in self._disconnected:
            await listener(user_id, client_id)
        if found:
            await self._audit.record(
                "app_disconnected",
                client_id=client_id,
                request_id=request_id,
                address=address,
                user=user_id,
                families=len(families),
            )
        return found
