"""The portal's decisions: a signed-in user registers apps of their own (a sandbox app is live
at once, a production app waits for `voltgate apps approve`), sees and changes only theirs,
rotates their secrets with an overlap, and reads their usage per minute or hour.

Who is a developer: any signed-in, active user. What they may create is bounded instead: only
the kinds a person's app is (third-party with a secret, open-source without), only the scopes
a user can grant on a consent page, and only the user-delegated grants (no client credentials),
so a self-registered app can never act without a user's consent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import structlog

from voltgate.clock import Clock
from voltgate.errors import NotFound, ValidationFailed
from voltgate.identity.admin import ClientAdmin, check_redirect_uri
from voltgate.identity.clients import Client, ClientKind
from voltgate.identity.consent import CONSENT_SCOPES
from voltgate.identity.usage import BUCKET, FIELDS, Usage, UsageRow, UsageStore
from voltgate.portal.store import PRODUCTION, SANDBOX, STAGES, DeveloperApp, DeveloperAppStore

log = structlog.get_logger("voltgate.portal")
KINDS = (ClientKind.THIRD_PARTY.value, ClientKind.OPEN_SOURCE.value)
GRANTS = ["authorization_code", "refresh_token"]
MAX_APPS = 20  # per developer
MAX_URIS = 10
MAX_OVERLAP = 7 * 86_400
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OwnedApp:
    app: DeveloperApp
    client: Client


@dataclass(frozen=True, slots=True)
class Registered:
    owned: OwnedApp
    secret: str | None  # shown once; None for an open-source (public) app


def _origin(value: str) -> str:
    """`scheme://host[:port]` as a browser sends it in `Origin` (RFC 6454 §6.2)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationFailed(f"allowed origin {value[:100]!r} is not an origin") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed(f"allowed origin {value[:100]!r} must be http(s)://host[:port]")
    if parts.path or parts.query or parts.fragment or parts.username is not None:
        raise ValidationFailed(f"allowed origin {value[:100]!r} must have no path or query")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _lines(text: str, what: str) -> list[str]:
    values = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if len(values) > MAX_URIS:
        raise ValidationFailed(f"at most {MAX_URIS} {what}")
    return values


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _redirect_uri(uri: str, stage: str) -> None:
    """A production app's web redirect URIs are https, or http on a loopback address (a native
    app, RFC 8252 §7.3); a sandbox app may use plain http anywhere (a LAN test box). Private
    schemes (`com.example.app:/cb`, RFC 8252 §7.1) are the client admin's to check."""
    parts = urlsplit(uri)
    if stage == PRODUCTION and parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValidationFailed(
            f"redirect URI {uri[:100]!r}: a production app's redirect URIs are https (plain "
            "http only on a loopback address: 127.0.0.1, [::1], localhost)"
        )


class FormInvalid(ValidationFailed):
    """Every problem with a registration at once (one per field), in the form's order."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Problems:
    """Runs each check, keeping what it refused instead of stopping at the first."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, check: Callable[[str], T], value: str, default: T) -> T:
        try:
            return check(value)
        except ValidationFailed as exc:
            self.found.append(exc.description)
            return default


class DeveloperApps:
    def __init__(self, store: DeveloperAppStore, admin: ClientAdmin, clock: Clock) -> None:
        self._store = store
        self._admin = admin
        self._clock = clock

    async def register(
        self,
        owner_id: str,
        *,
        name: str,
        kind: str,
        scopes: list[str],
        redirect_uris: str,
        allowed_origins: str,
        stage: str,
        also: Sequence[str] = (),
    ) -> Registered:
        """`also`: what the caller found wrong (the public-key domain's form), reported with
        the rest; nothing is created while anything is wrong (`FormInvalid` lists it all)."""
        problems = _Problems()
        if kind not in KINDS:
            problems.found.append(f"kind must be one of: {', '.join(KINDS)}")
        if stage not in STAGES:
            problems.found.append(f"stage must be {SANDBOX} or {PRODUCTION}")
        unknown = [s for s in scopes if s not in CONSENT_SCOPES]
        if unknown or not scopes:
            problems.found.append("choose one or more of the scopes listed")
        none: list[str] = []
        uris = problems.check(lambda text: _lines(text, "redirect URIs"), redirect_uris, none)
        if not redirect_uris.strip():
            problems.found.append("an app needs at least one redirect URI")
        for uri in uris:
            problems.check(check_redirect_uri, uri, None)
            problems.check(lambda u: _redirect_uri(u, stage), uri, None)
        texts = problems.check(lambda text: _lines(text, "allowed origins"), allowed_origins, none)
        origins = tuple(o for o in (problems.check(_origin, t, "") for t in texts) if o)
        problems.found.extend(also)
        if len(await self._store.of_owner(owner_id)) >= MAX_APPS:
            problems.found.append(f"a developer may register at most {MAX_APPS} apps")
        if problems.found:
            raise FormInvalid(problems.found)
        created = await self._admin.create(
            name=name,
            kind=kind,
            scopes=" ".join(scopes),
            grant_types=GRANTS,
            redirect_uris=uris,
            awaiting_approval=stage == PRODUCTION,
        )
        app = DeveloperApp(created.client.id, owner_id, stage, origins, self._clock.now())
        await self._store.add(app)
        return Registered(OwnedApp(app, created.client), created.secret)

    async def mine(self, owner_id: str) -> list[OwnedApp]:
        owned = []
        for app in await self._store.of_owner(owner_id):
            client = await self._admin.show(app.client_id)
            owned.append(OwnedApp(app, client))
        return owned

    async def owned(self, owner_id: str, client_id: str) -> OwnedApp:
        """The app if this developer registered it; NotFound alike for another's and none."""
        app = None if len(client_id) > 128 else await self._store.get(client_id)
        if app is None or app.owner_id != owner_id:
            raise NotFound("no such app of yours")
        return OwnedApp(app, await self._admin.show(app.client_id))

    async def rotate_secret(self, owner_id: str, client_id: str, overlap: int) -> str:
        owned = await self.owned(owner_id, client_id)
        if not 0 <= overlap <= MAX_OVERLAP:
            raise ValidationFailed(f"overlap must be between 0 and {MAX_OVERLAP} seconds")
        return await self._admin.rotate_secret(owned.client.id, overlap, via="portal")

    async def set_origins(self, owner_id: str, client_id: str, text: str) -> None:
        owned = await self.owned(owner_id, client_id)
        origins = tuple(_origin(o) for o in _lines(text, "allowed origins"))
        await self._store.set_origins(owned.client.id, origins)

    async def approve(self, client_id: str) -> Client:
        """An admin's approval: the production app's credentials start working."""
        client = await self._admin.approve(client_id)
        if await self._store.get(client_id) is not None:
            await self._store.approved(client_id, self._clock.now())
        return client


class UsageRecorder:
    """Flushes the in-process counters to the store every `interval` seconds (and at stop),
    and reads an app's usage as series for the charts."""

    def __init__(self, usage: Usage, store: UsageStore, clock: Clock, interval: float) -> None:
        self._usage = usage
        self._store = store
        self._clock = clock
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="voltgate-usage")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        async with self._flushing:
            rows = self._usage.drain()
            try:
                await self._store.add(rows)
            except Exception:
                self._usage.restore(rows)  # counted again with the next flush
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("usage_flush_failed")

    async def series(
        self, client_id: str, step: int, points: int
    ) -> tuple[int, dict[str, list[int]]]:
        """The last `points` periods of `step` seconds (a multiple of a minute) up to now: the
        first period's start and each counter's values, this process's unflushed ones too."""
        await self.flush()
        now = int(self._clock.now())
        start = (now // step - points + 1) * step
        values = {name: [0] * points for name in FIELDS}
        rows: list[UsageRow] = await self._store.since(client_id, start - start % BUCKET)
        for row in rows:
            index = (row.bucket - start) // step
            if 0 <= index < points:
                for name in FIELDS:
                    values[name][index] += getattr(row, name)
        return start, values
