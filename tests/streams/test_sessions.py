"""Open streams per token: at most a few at once, and ended (1008) once their token is refused
(revoked) or expired, at the next look."""

from __future__ import annotations

import asyncio

import pytest

from voltgate.clock import FrozenClock
from voltgate.errors import RateLimited
from voltgate.identity.tokens import AccessClaims
from voltgate.streams.hub import POLICY, Close, Hub
from voltgate.streams.sessions import EXPIRED, REVOKED, Sessions


def _claims(jti: str, expires_at: float) -> AccessClaims:
    return AccessClaims(
        subject="op",
        client_id="op",
        scopes=frozenset({"read"}),
        scope="read",
        kind="operator",
        jti=jti,
        issued_at=expires_at - 3600,
        expires_at=expires_at,
        raw={},
    )


async def _never(_claims: AccessClaims) -> str | None:
    return None


async def test_revoked_and_expired_tokens_lose_their_streams_and_no_other() -> None:
    clock = FrozenClock()
    revoked: set[str] = set()

    async def refusal(claims: AccessClaims) -> str | None:
        return REVOKED if claims.jti in revoked else None

    sessions = Sessions(refusal, clock, max_per_token=5, every=0.01)
    hub = Hub(limit=4)
    soon, later, kept = (
        _claims("soon", clock.now() + 60),
        _claims("later", clock.now() + 3600),
        _claims("kept", clock.now() + 3600),
    )
    streams = {claims.jti: hub.subscribe(["k"]) for claims in (soon, later, kept)}
    for claims in (soon, later, kept):
        sessions.add(claims, streams[claims.jti])

    revoked.add("later")
    async with asyncio.timeout(2):
        await streams["later"].closed
    assert streams["later"].closed.result() == Close(POLICY, REVOKED)
    assert not streams["soon"].closed.done()

    clock.advance(60)
    async with asyncio.timeout(2):
        await streams["soon"].closed
    assert streams["soon"].closed.result() == Close(POLICY, EXPIRED)
    assert not streams["kept"].closed.done()
    for claims in (soon, later, kept):
        sessions.remove(claims, streams[claims.jti])
    assert sessions.open == 0
    await sessions.stop()


async def test_a_token_holds_at_most_its_share_of_streams() -> None:
    clock = FrozenClock()
    sessions = Sessions(_never, clock, max_per_token=2)
    hub = Hub(limit=4)
    claims, other = _claims("a", clock.now() + 60), _claims("b", clock.now() + 60)
    first, second = hub.subscribe(["k"]), hub.subscribe(["k"])
    sessions.room(claims)
    sessions.add(claims, first)
    sessions.add(claims, second)
    with pytest.raises(RateLimited, match="2 open streams"):
        sessions.room(claims)
    sessions.room(other)  # another token's share is its own
    sessions.remove(claims, first)
    sessions.room(claims)
    await sessions.stop()
