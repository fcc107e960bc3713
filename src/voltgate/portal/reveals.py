"""A secret the portal just made, handed from the form's POST to the one page view that shows it.

The POST answers 303 to a page (so a reload never registers or rotates again); the secret waits
for that page server-side, AES-GCM sealed under the master key, in a row keyed by a keyed hash of
the browser's session and a random reveal id (the only part in the URL). The first GET from that
session takes it and deletes the row; any later view, another session's, or one after
`REVEAL_TTL`, finds nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import orjson
from cryptography.exceptions import InvalidTag

from voltgate.clock import Clock
from voltgate.identity.secrets import Crypto
from voltgate.portal.store import RevealStore

REVEAL_TTL = 600  # the 303 is followed at once; a row left unread is pruned after this
_CONTEXT = "portal-reveal/v1"
_MAX_ID = 64


@dataclass(frozen=True, slots=True)
class Reveal:
    heading: str
    secret: str | None  # None: a public app's registration (nothing secret to show)
    label: str = "Client secret"
    webhook_url: str | None = None  # a webhook's signing secret: the URL it signs for
    note: str | None = None
    warning: str | None = None


class Reveals:
    def __init__(self, store: RevealStore, crypto: Crypto, clock: Clock) -> None:
        self._store = store
        self._crypto = crypto
        self._clock = clock

    def _key(self, session_id: str, reveal_id: str) -> str:
        return self._crypto.hasher.hash(f"portal-reveal:{session_id}:{reveal_id}")

    async def hold(self, session_id: str, client_id: str, reveal: Reveal) -> str:
        """Keep `reveal` for one view by this session; the id its page is reached by."""
        now = self._clock.now()
        await self._store.prune(now)
        reveal_id = secrets.token_urlsafe(16)
        key = self._key(session_id, reveal_id)
        sealed = self._crypto.envelope.seal(orjson.dumps(asdict(reveal)), f"{_CONTEXT}:{key}")
        await self._store.add(key, client_id, sealed, now + REVEAL_TTL)
        return reveal_id

    async def take(self, session_id: str, client_id: str, reveal_id: str) -> Reveal | None:
        """The reveal, once: None if shown already, expired, another session's or made up."""
        if not reveal_id or len(reveal_id) > _MAX_ID:
            return None
        key = self._key(session_id, reveal_id)
        sealed = await self._store.take(key, client_id, self._clock.now())
        if sealed is None:
            return None
        try:
            fields = orjson.loads(self._crypto.envelope.open(sealed, f"{_CONTEXT}:{key}"))
            return Reveal(**fields)
        except (ValueError, TypeError, InvalidTag):
            return None
