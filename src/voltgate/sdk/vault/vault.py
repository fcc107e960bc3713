"""The token vault: a grant's tokens sealed at rest, refreshed single-flight, rotations stored
before use.

A refresh of one grant happens once however many coroutines and processes need it: coroutines
of a process queue on an asyncio lock, processes on the store's lock (file lock, PostgreSQL
advisory lock, Redis lock with fencing). Whoever holds the lock reads the grant again first: if
another holder has refreshed it meanwhile, its tokens are used and no refresh token is presented
a second time. A rotated refresh token is stored (with the new access token, in one write)
before the new access token is handed to anyone, so a crash after the exchange loses nothing
the platform will not give again (voltgate answers a token presented again within its grace
window with the same pair).

Logs name the grant and a correlation id (also sent as X-Request-Id), never a token.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from voltgate.sdk.vault.exchange import GrantRejected, TokenEndpointError
from voltgate.sdk.vault.keys import KeyProvider, LocalKeyFile
from voltgate.sdk.vault.records import GrantKey, Record, Tokens, open_record, rewrap, seal
from voltgate.sdk.vault.sqlite import SQLiteStore
from voltgate.sdk.vault.store import Store

log = logging.getLogger("voltgate.sdk.vault")

DEFAULT_MARGIN = 300.0  # refresh this long before expiry ("a few minutes", the guides say)

# Exchanges the current tokens (None: no grant yet, for client-credentials profiles) for new
# ones; the second argument is the correlation id to send.
Refresher = Callable[[Tokens | None, str], Awaitable[Tokens]]


class VaultError(Exception):
    pass


class NoGrant(VaultError):
    """Nothing to refresh for this (profile, app, user): the user has not signed in yet, or the
    stored grant holds no refresh token. Its message says so in words, naming the grant."""

    def __init__(self, key: GrantKey, missing: str = "no stored grant") -> None:
        super().__init__(f"{missing} for {key.label()}: sign in again")
        self.key = key


class ReauthorizationRequired(VaultError):
    """The platform refused the grant (`invalid_grant`): the user must authorise the app again.
    The grant stays marked until new tokens are stored for it (`TokenVault.put`)."""

    def __init__(self, key: GrantKey, reason: str) -> None:
        super().__init__(f"{key.label()} needs re-authorisation: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class GrantStatus:
    expires_at: float
    refreshed_at: float | None
    failures: int
    needs_reauth: bool
    key_id: str


def correlation_id() -> str:
    return "vgsdk-" + secrets.token_hex(8)


class TokenVault:
    def __init__(
        self,
        store: Store | None = None,
        keys: KeyProvider | None = None,
        *,
        path: Path | str = "voltgate-vault.db",
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Defaults: an SQLite file at `path` and its key file beside it (`…​.keys.json`)."""
        path = Path(path)
        self.store: Store = store if store is not None else SQLiteStore(path)
        self.keys: KeyProvider = (
            keys if keys is not None else LocalKeyFile(path.with_name(path.name + ".keys.json"))
        )
        self.margin = margin
        self.clock = clock
        self._local: dict[GrantKey, asyncio.Lock] = {}
        # Tokens this process last read or stored, used until due: a not-yet-due access token
        # stays valid even if another process has refreshed since.
        self._held: dict[GrantKey, Tokens] = {}
        self.refreshes = 0  # exchanges this vault made (tests, metrics)

    def _lock(self, key: GrantKey) -> asyncio.Lock:
        return self._local.setdefault(key, asyncio.Lock())

    def _due(self, expires_at: float) -> bool:
        return self.clock() >= expires_at - self.margin

    def _open(self, record: Record) -> Tokens:
        tokens = open_record(record, self.keys)
        self._held[record.key] = tokens
        return tokens

    async def put(self, key: GrantKey, tokens: Tokens) -> None:
        """Store a new grant (the end of a sign-in), replacing any before it."""
        async with self._lock(key), self.store.lock(key) as fence:
            await self.store.save(seal(key, tokens, self.keys, fence=fence))
            self._held[key] = tokens
        log.info("grant stored: %s", key.label(), extra={"grant": key.label()})

    async def status(self, key: GrantKey) -> GrantStatus:
        record = await self.store.load(key)
        if record is None:
            raise NoGrant(key)
        return GrantStatus(
            record.expires_at, record.refreshed_at, record.failures, record.needs_reauth,
            record.kek_id,
        )  # fmt: skip

    async def tokens(self, key: GrantKey, refresher: Refresher) -> Tokens:
        """Tokens not about to expire: the ones held, the stored ones, or refreshed ones."""
        held = self._held.get(key)
        if held is not None and not self._due(held.expires_at):
            return held
        record = await self.store.load(key)
        if record is not None and record.needs_reauth:
            raise ReauthorizationRequired(key, "invalid_grant")
        if record is not None and not self._due(record.expires_at):
            return self._open(record)
        return await self.refresh(key, refresher)

    async def refresh(
        self, key: GrantKey, refresher: Refresher, stale: str | None = None
    ) -> Tokens:
        """Fresh tokens. `stale`: an access token the platform refused as expired; if the
        stored one is already another, that one is returned and nothing is refreshed."""
        async with self._lock(key):
            held = await self._current(key, stale)
            if held is not None:
                return held
            async with self.store.lock(key) as fence:
                held = await self._current(key, stale)  # another process may have refreshed
                if held is not None:
                    return held
                return await self._exchange(key, refresher, fence)

    async def _current(self, key: GrantKey, stale: str | None) -> Tokens | None:
        record = await self.store.load(key)
        if record is None:
            return None
        if record.needs_reauth:
            self._held.pop(key, None)
            raise ReauthorizationRequired(key, "invalid_grant")
        tokens = self._open(record)
        if stale is not None:
            replaced = tokens.access_token != stale and self.clock() < record.expires_at
            return tokens if replaced else None
        return None if self._due(record.expires_at) else tokens

    async def _exchange(self, key: GrantKey, refresher: Refresher, fence: int) -> Tokens:
        record = await self.store.load(key)
        current = self._open(record) if record is not None else None
        cid = correlation_id()
        extra = {"grant": key.label(), "correlation_id": cid}
        try:
            fresh = await refresher(current, cid)
        except GrantRejected as refused:
            self._held.pop(key, None)
            if record is not None:
                await self.store.save(
                    record.with_(needs_reauth=True, failures=record.failures + 1, fence=fence)
                )
            log.warning("grant refused (%s): %s [%s]", refused.error, key.label(), cid,
                        extra=extra)  # fmt: skip
            raise ReauthorizationRequired(key, refused.error or "invalid_grant") from None
        except Exception as failed:
            if record is not None:
                await self.store.save(record.with_(failures=record.failures + 1, fence=fence))
            log.warning("%s [%s]", _failure(key, failed, kept=record is not None), cid,
                        extra=extra)  # fmt: skip
            raise
        if fresh.refresh_token is None and current is not None:
            # A platform that keeps its refresh token answers without one: keep ours.
            fresh = Tokens(fresh.access_token, current.refresh_token, fresh.expires_at,
                           fresh.scope)  # fmt: skip
        # Stored before anyone uses it: the rotated refresh token is the only one that works now.
        await self.store.save(seal(key, fresh, self.keys, refreshed_at=self.clock(), fence=fence))
        self._held[key] = fresh
        self.refreshes += 1
        log.info("refreshed: %s (fence %d) [%s]", key.label(), fence, cid, extra=extra)
        return fresh

    async def rewrap(self) -> int:
        """Every record's data key wrapped under the current key-encryption key (after a
        rotation, before retiring the old key). How many were rewrapped."""
        count = 0
        for record in await self.store.records():
            if record.kek_id == self.keys.current_key_id():
                continue
            async with self._lock(record.key), self.store.lock(record.key) as fence:
                latest = await self.store.load(record.key)
                if latest is None or latest.kek_id == self.keys.current_key_id():
                    continue
                await self.store.save(rewrap(latest, self.keys).with_(fence=fence))
                count += 1
        return count

    async def close(self) -> None:
        await self.store.close()


def _failure(key: GrantKey, failed: Exception, *, kept: bool = True) -> str:
    """A failed refresh in a user's words. Built from status, error code, the server's short
    description and the exception's class, never from a request: no token reaches a log.
    `kept`: whether the vault holds a grant for the key (a first client-credentials request
    has none: what was refused is the app's own token, not a user's grant)."""
    if isinstance(failed, NoGrant):
        return str(failed)
    label = key.label()
    if isinstance(failed, TokenEndpointError):
        said = " ".join(p for p in (failed.error, (failed.description or "")[:200]) if p)
        if not kept:  # only a client-credentials refresher gets this far without a grant
            return (
                f"the token endpoint refused the app's own token for {label} (client "
                f"credentials, HTTP {failed.status}: {said or 'no reason given'}); there is no "
                "grant to keep, the next call asks again"
            )
        return (
            f"the token endpoint refused a new token for {label} (HTTP {failed.status} {said}); "
            "the grant is kept and the next call tries again"
        )
    if isinstance(failed, httpx.TransportError):
        return (
            f"could not reach the token endpoint for {label} ({type(failed).__name__}); "
            "the next call tries again"
        )
    return f"refreshing {label} failed ({type(failed).__name__}); the next call tries again"
