"""The delivery worker: runs in every server process (a lifespan task) and POSTs each pending
delivery to its endpoint, strictly in order per endpoint, one in flight per endpoint.

Order: an endpoint's oldest pending delivery goes first, and nothing after it goes before it has
been delivered or has died (`max_attempts` attempts). A failed attempt (no answer in `timeout`,
a transport error, any status but 2xx; redirects are not followed) waits `backoff_base * 2^(n-1)`
seconds, at most `backoff_max`, times a random factor in [0.5, 1) (jitter, so endpoints that
failed together do not retry together).

One instance at a time: a process delivers an endpoint only while it holds the endpoint's lease,
a row of `webhook_leases` taken by one conditional upsert (free, expired, or already its own),
renewed before every attempt and released when the endpoint has nothing due. A process that
dies holding one leaves it to expire after `lease_seconds` (longer than an attempt can take),
after which another instance takes over. The database decides, so this needs no Redis and holds
on SQLite as on PostgreSQL.

Exactly once: a delivery keeps its id (`Voltgate-Delivery-Id`) across attempts and replays, so a
receiver that records the ids it processed ignores a repeat, e.g. when its 2xx was lost and the
attempt is made again. Neither secrets nor signatures are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import httpx
import orjson
import structlog

from voltgate import __version__
from voltgate.clock import Clock, SystemClock
from voltgate.webhooks.service import Webhooks
from voltgate.webhooks.signing import (
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    EVENT_HEADER,
    HEADER,
    signature,
)
from voltgate.webhooks.store import DeliveryStore, Endpoint, Outgoing

log = structlog.get_logger("voltgate.webhooks")
EVENT = "alert.fired"
MAX_ACTIVE = 100  # endpoints delivered at once by one process


def body_of(outgoing: Outgoing) -> bytes:
    """What a delivery sends: the same bytes on every attempt."""
    d = outgoing.delivery
    alert = {
        "id": d.alert_id,
        "rule_id": outgoing.rule_id,
        "kind": outgoing.kind,
        "subject": outgoing.subject,
        "fired_at": outgoing.fired_at,
        "value": orjson.loads(outgoing.value_json),
        "details": orjson.loads(outgoing.details_json),
    }
    return orjson.dumps({"id": d.public_id, "type": EVENT, "alert": alert})


class Deliverer:
    def __init__(
        self,
        deliveries: DeliveryStore,
        webhooks: Webhooks,
        clock: Clock,
        *,
        owner: str,
        max_attempts: int = 12,
        backoff_base: float = 2.0,
        backoff_max: float = 3_600.0,
        timeout: float = 10.0,
        poll_interval: float = 1.0,
        lease_seconds: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        timer: Clock | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._webhooks = webhooks
        self._clock = clock  # what receivers see: the signature's t, the overlap of secrets
        self._timer = timer or SystemClock()  # when attempts are due and leases end
        self._owner = owner
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._lease = max(lease_seconds, 3 * timeout)
        self._transport = transport
        self._random = random.Random()  # noqa: S311 - jitter, not secrecy
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._active: dict[str, asyncio.Task[None]] = {}
        self._not_before: dict[str, float] = {}  # endpoint -> its head's next attempt
        self.attempts = self.delivered = self.dead = 0

    def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            transport=self._transport,
            headers={"user-agent": f"voltgate-webhooks/{__version__}"},
        )
        self._loop = asyncio.get_running_loop().create_task(self._run(), name="voltgate-webhooks")

    def wake(self) -> None:
        """Deliveries were added or made due again: look now, not at the next poll."""
        self._not_before.clear()
        self._wake.set()

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self._active.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._round()
            except Exception:
                log.exception("webhook_round_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def _round(self) -> None:
        now = self._timer.now()
        for endpoint_id in await self._deliveries.due_endpoints(now, MAX_ACTIVE):
            if endpoint_id in self._active or len(self._active) >= MAX_ACTIVE:
                continue
            if self._not_before.get(endpoint_id, 0.0) > now:
                continue
            if not await self._deliveries.claim(endpoint_id, self._owner, now + self._lease, now):
                continue  # another instance delivers it
            task = asyncio.get_running_loop().create_task(self._endpoint(endpoint_id))
            self._active[endpoint_id] = task

    async def _endpoint(self, endpoint_id: str) -> None:
        """Deliver the endpoint's pending deliveries in order while holding its lease."""
        try:
            while True:
                now = self._timer.now()
                if not await self._deliveries.claim(
                    endpoint_id, self._owner, now + self._lease, now
                ):
                    return
                head = await self._deliveries.head(endpoint_id)
                endpoint = await self._webhooks.endpoint_by_id(endpoint_id)
                if head is None or endpoint is None:
                    return
                wait = head.delivery.next_at - now
                if wait > 0:
                    if wait > self._lease / 3:
                        self._not_before[endpoint_id] = head.delivery.next_at
                        return
                    await asyncio.sleep(wait)
                    continue
                await self._attempt(endpoint, head)
        except Exception:
            log.exception("webhook_endpoint_failed", endpoint_id=endpoint_id)
        finally:
            self._active.pop(endpoint_id, None)
            with contextlib.suppress(Exception):
                await self._deliveries.release(endpoint_id, self._owner)

    async def _attempt(self, endpoint: Endpoint, outgoing: Outgoing) -> None:
        assert self._client is not None
        delivery = outgoing.delivery
        attempt = delivery.attempts + 1
        body = body_of(outgoing)
        stamp = self._clock.now()
        headers = {
            "content-type": "application/json",
            HEADER: signature(self._webhooks.signing_secrets(endpoint, stamp), int(stamp), body),
            DELIVERY_HEADER: delivery.public_id,
            EVENT_HEADER: EVENT,
            ATTEMPT_HEADER: str(attempt),
        }
        status: int | None = None
        self.attempts += 1
        try:
            async with asyncio.timeout(self._timeout * 2):
                async with self._client.stream(
                    "POST", endpoint.url, content=body, headers=headers
                ) as answer:
                    status = answer.status_code  # the body is never read
            error = "" if 200 <= status < 300 else f"answered {status}"
        except (TimeoutError, httpx.TimeoutException):
            error = "no answer in time"
        except httpx.HTTPError as exc:
            error = f"could not deliver: {type(exc).__name__}"
        fields = {"endpoint_id": endpoint.id, "delivery_id": delivery.public_id, "attempt": attempt}
        if not error:
            assert status is not None
            await self._deliveries.delivered(delivery.id, attempt, status, self._clock.now())
            self.delivered += 1
            log.info("webhook_delivered", status=status, **fields)
            return
        dead = attempt >= self._max_attempts
        next_at = self._timer.now() + self._backoff(attempt)
        await self._deliveries.failed(delivery.id, attempt, next_at, status, error, dead)
        if dead:
            self.dead += 1
            log.warning("webhook_dead_lettered", error=error, **fields)
        else:
            log.info("webhook_attempt_failed", error=error, **fields)

    def _backoff(self, attempt: int) -> float:
        delay = min(self._backoff_max, self._backoff_base * 2.0 ** min(attempt - 1, 60))
        return delay * (0.5 + self._random.random() / 2)
