"""Browser state for the sign-in and consent pages: a sealed session cookie, CSRF tokens and the
sealed authorization request a consent form carries.

Nothing here is stored server-side: the session cookie is AES-GCM sealed under the master key
(so any instance can read it and nobody can forge it), the CSRF form token is an HMAC of a random
cookie (so a planted cookie is useless without the server key), and the pending authorization
request travels sealed and bound to the session that saw the consent page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag

from voltgate.clock import Clock
from voltgate.identity.secrets import Crypto

SESSION_TTL = 12 * 3_600
PENDING_TTL = 600  # a consent page older than this must be reloaded from the app
_SESSION_CONTEXT = "web-session/v1"
_PENDING_CONTEXT = "authorize-request/v1"


@dataclass(frozen=True, slots=True)
class WebSession:
    id: str
    user_id: str
    auth_time: float
    expires_at: float


def cookie_names(secure: bool) -> tuple[str, str]:
    """(session, csrf) cookie names; `__Host-` pins them to this host over https."""
    prefix = "__Host-" if secure else ""
    return f"{prefix}vg_session", f"{prefix}vg_csrf"


class BrowserState:
    def __init__(self, crypto: Crypto, clock: Clock) -> None:
        self._crypto = crypto
        self._clock = clock

    # -- session ---------------------------------------------------------------------------
    def new_session(self, user_id: str) -> tuple[WebSession, str]:
        now = self._clock.now()
        session = WebSession(secrets.token_urlsafe(16), user_id, now, now + SESSION_TTL)
        payload = {"sid": session.id, "uid": user_id, "at": now, "exp": session.expires_at}
        return session, self._crypto.envelope.seal(orjson.dumps(payload), _SESSION_CONTEXT)

    def read_session(self, cookie: str | None) -> WebSession | None:
        payload = self._open(cookie, _SESSION_CONTEXT)
        if payload is None:
            return None
        try:
            session = WebSession(
                str(payload["sid"]),
                str(payload["uid"]),
                float(payload["at"]),
                float(payload["exp"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return session if session.expires_at > self._clock.now() else None

    # -- CSRF ------------------------------------------------------------------------------
    @staticmethod
    def new_csrf_cookie() -> str:
        return secrets.token_urlsafe(32)

    def csrf_token(self, cookie: str) -> str:
        return self._crypto.hasher.hash(f"csrf:{cookie}")

    def csrf_valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token or len(cookie) > 100:
            return False
        return self._crypto.hasher.matches(self.csrf_token(cookie), token)

    # -- the pending authorization request ---------------------------------------------------
    def seal_request(self, params: tuple[tuple[str, str], ...], session: WebSession) -> str:
        payload = {"p": params, "sid": session.id, "exp": self._clock.now() + PENDING_TTL}
        return self._crypto.envelope.seal(orjson.dumps(payload), _PENDING_CONTEXT)

    def open_request(self, sealed: str | None, session: WebSession) -> dict[str, list[str]] | None:
        """The request's parameters, or None if forged, expired or from another session."""
        payload = self._open(sealed, _PENDING_CONTEXT)
        if payload is None or payload.get("sid") != session.id:
            return None
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or exp <= self._clock.now():
            return None
        params: dict[str, list[str]] = {}
        for key, value in payload.get("p", []):
            params.setdefault(str(key), []).append(str(value))
        return params

    def _open(self, sealed: str | None, context: str) -> dict[str, Any] | None:
        if not sealed or len(sealed) > 8192:
            return None
        try:
            payload = orjson.loads(self._crypto.envelope.open(sealed, context))
        except (ValueError, InvalidTag, orjson.JSONDecodeError):
            return None
        return payload if isinstance(payload, dict) else None
