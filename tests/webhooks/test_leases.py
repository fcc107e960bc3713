"""The delivery lease: one owner at a time per endpoint, renewable by its owner, taken over once
it has lapsed, released by its owner only."""

from __future__ import annotations

from tests.conftest import App
from voltgate.webhooks.repository import SqlWebhookStore


async def test_one_owner_at_a_time(alerting: App) -> None:
    store = SqlWebhookStore(alerting.rt.db)
    assert await store.claim("whe_a", "one", until=100.0, now=0.0)
    assert not await store.claim("whe_a", "two", until=110.0, now=10.0)
    assert await store.claim("whe_a", "one", until=130.0, now=30.0)  # renewed
    assert await store.claim("whe_b", "two", until=110.0, now=10.0)  # another endpoint
    assert not await store.claim("whe_a", "two", until=200.0, now=120.0)
    assert await store.claim("whe_a", "two", until=240.0, now=140.0)  # lapsed: taken over
    assert not await store.claim("whe_a", "one", until=250.0, now=150.0)
    await store.release("whe_a", "one")  # not its lease any more: nothing happens
    assert not await store.claim("whe_a", "one", until=250.0, now=150.0)
    await store.release("whe_a", "two")
    assert await store.claim("whe_a", "one", until=260.0, now=160.0)
