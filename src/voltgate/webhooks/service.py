"""Webhooks as the API offers them: an app registers endpoint URLs (answered with the signing
secret once), rotates a secret with an overlap, lists an endpoint's deliveries and replays them.

The secret is sealed (AES-GCM envelope under the master key, as client secrets kept for request
signing are): the worker must recover it to sign, so a hash would not do. It is never logged.
"""

from __future__ import annotations

from collections.abc import Callable

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.secrets import Crypto
from voltgate.ids import new_id
from voltgate.pagination import Slice, decode_cursor, slice_of
from voltgate.webhooks.readmodel import EndpointReadModel
from voltgate.webhooks.store import Delivery, DeliveryState, DeliveryStore, Endpoint
from voltgate.webhooks.urls import check_url

_SEAL_CONTEXT = "webhook-secret:"
MAX_OVERLAP = 7 * 86_400


def _delivery_key(delivery: Delivery) -> str:
    return str(delivery.id)


def delivery_number(public_id: str) -> int:
    """`whd_<n>` as n; NotFound for anything else."""
    digits = public_id.removeprefix("whd_")
    if public_id == digits or not digits.isdigit() or len(digits) > 18:
        raise NotFound(f"no delivery {public_id[:40]!r}")
    return int(digits)


class Webhooks:
    def __init__(
        self,
        endpoints: EndpointReadModel,
        deliveries: DeliveryStore,
        crypto: Crypto,
        clock: Clock,
        *,
        sandbox: bool,
        max_endpoints: int = 10,
        overlap: float = 86_400.0,
    ) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._crypto = crypto
        self._clock = clock
        self._sandbox = sandbox
        self._max_endpoints = max_endpoints
        self._overlap = overlap
        self.on_pending: list[Callable[[], None]] = []  # told when deliveries are due again

    async def register(
        self, client_id: str, url: str, description: str = ""
    ) -> tuple[Endpoint, str]:
        """A new endpoint and its signing secret (shown this once)."""
        url = check_url(url, sandbox=self._sandbox)
        if len(self._endpoints.of_client(client_id)) >= self._max_endpoints:
            raise Conflict(f"an app may have at most {self._max_endpoints} webhook endpoints")
        endpoint_id = new_id("whe_")
        secret = self._crypto.formats.secret("whs")
        endpoint = Endpoint(
            id=endpoint_id,
            client_id=client_id,
            url=url,
            description=description.strip(),
            secret_sealed=self._seal(endpoint_id, secret),
            previous_sealed=None,
            previous_until=None,
            created_at=self._clock.now(),
            rotated_at=None,
        )
        await self._endpoints.add(endpoint)
        return endpoint, secret

    def endpoints(self, client_id: str) -> list[Endpoint]:
        return self._endpoints.of_client(client_id)

    async def endpoint(self, client_id: str, endpoint_id: str) -> Endpoint:
        found = None if "\x00" in endpoint_id else await self._endpoints.get(endpoint_id[:40])
        if found is None or found.client_id != client_id:
            raise NotFound(f"no webhook endpoint {endpoint_id[:40]!r}")
        return found

    async def endpoint_by_id(self, endpoint_id: str) -> Endpoint | None:
        """Whoever's it is (the delivery worker's look-up)."""
        return await self._endpoints.get(endpoint_id)

    async def delete(self, client_id: str, endpoint_id: str) -> None:
        endpoint = await self.endpoint(client_id, endpoint_id)
        if not await self._endpoints.delete(client_id, endpoint.id):
            raise NotFound(f"no webhook endpoint {endpoint_id[:40]!r}")

    async def rotate(
        self, client_id: str, endpoint_id: str, overlap: float | None = None
    ) -> tuple[Endpoint, str]:
        """A new secret; the current one keeps signing beside it for `overlap` seconds."""
        endpoint = await self.endpoint(client_id, endpoint_id)
        overlap = self._overlap if overlap is None else overlap
        if not 0 <= overlap <= MAX_OVERLAP:
            raise ValidationFailed(f"overlap_seconds: between 0 and {MAX_OVERLAP}")
        now = self._clock.now()
        secret = self._crypto.formats.secret("whs")
        rotated = await self._endpoints.rotate(
            endpoint.id, self._seal(endpoint.id, secret), endpoint.secret_sealed, now + overlap, now
        )
        if rotated is None:
            raise NotFound(f"no webhook endpoint {endpoint_id[:40]!r}")
        return rotated, secret

    def signing_secrets(self, endpoint: Endpoint, now: float) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the one before the
        last rotation while it overlaps."""
        secrets = [self._open(endpoint.id, endpoint.secret_sealed)]
        until = endpoint.previous_until
        if endpoint.previous_sealed is not None and until is not None and now < until:
            secrets.append(self._open(endpoint.id, endpoint.previous_sealed))
        return secrets

    async def deliveries(
        self,
        client_id: str,
        endpoint_id: str,
        state: DeliveryState | None,
        cursor: str | None,
        limit: int,
    ) -> Slice[Delivery]:
        endpoint = await self.endpoint(client_id, endpoint_id)
        last = decode_cursor(cursor)
        if last is not None and (not last.isdigit() or len(last) > 18):
            raise ValidationFailed("cursor is not one this API returned")
        after = int(last) if last is not None else 0
        rows = await self._deliveries.page(endpoint.id, state, after, limit + 1)
        return slice_of(rows, limit, _delivery_key)

    async def replay(self, client_id: str, endpoint_id: str, delivery_id: str) -> Delivery:
        """A dead (or delivered) delivery sent again, with the same delivery id."""
        endpoint = await self.endpoint(client_id, endpoint_id)
        number = delivery_number(delivery_id)
        if not await self._deliveries.replay(endpoint.id, number):
            found = await self._deliveries.get(endpoint.id, number)
            if found is None:
                raise NotFound(f"no delivery {delivery_id[:40]!r}")
            raise Conflict("this delivery is pending already")
        self._pending()
        found = await self._deliveries.get(endpoint.id, number)
        assert found is not None
        return found

    async def replay_dead(self, client_id: str, endpoint_id: str) -> int:
        endpoint = await self.endpoint(client_id, endpoint_id)
        count = await self._deliveries.replay_dead(endpoint.id)
        if count:
            self._pending()
        return count

    def _pending(self) -> None:
        for wake in self.on_pending:
            wake()

    def _seal(self, endpoint_id: str, secret: str) -> str:
        return self._crypto.envelope.seal(secret.encode(), _SEAL_CONTEXT + endpoint_id)

    def _open(self, endpoint_id: str, sealed: str) -> str:
        return self._crypto.envelope.open(sealed, _SEAL_CONTEXT + endpoint_id).decode()
