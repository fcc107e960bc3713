"""The coordination port: revocations, rate limits, replay nonces, locks and broadcasts.

`memory.InProcessCoordinator` serves one process (the embedded default); `redis.RedisCoordinator`
serves N instances sharing Redis. Both satisfy `port.Coordinator` and pass one contract suite.
"""

from __future__ import annotations

from voltgate.cache.port import Coordinator, LockTimeout, RateDecision
from voltgate.clock import Clock

__all__ = ["Coordinator", "LockTimeout", "RateDecision", "build_coordinator"]


def build_coordinator(redis_url: str | None, namespace: str, clock: Clock) -> Coordinator:
    if redis_url:
        from voltgate.cache.redis import RedisCoordinator

        return RedisCoordinator(redis_url, namespace=namespace, clock=clock)
    from voltgate.cache.memory import InProcessCoordinator

    return InProcessCoordinator(clock=clock)
