"""What the webhooks area stores, and the storage it needs (`repository.py` implements it for
SQLite and PostgreSQL; `readmodel.py` holds the endpoints in memory over it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

DeliveryState = Literal["pending", "delivered", "dead"]
STATES: tuple[DeliveryState, ...] = ("pending", "delivered", "dead")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    client_id: str  # the app
    url: str
    description: str
    secret_sealed: str  # the signing secret, sealed (it is needed to sign)
    previous_sealed: str | None  # the secret before the last rotation, while it overlaps
    previous_until: float | None
    created_at: float
    rotated_at: float | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    endpoint_id: str
    alert_id: str
    state: DeliveryState
    attempts: int
    next_at: float  # when the next attempt is due (the worker's clock)
    last_status: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None

    @property
    def public_id(self) -> str:
        """What the API and the receiver see (the `Voltgate-Delivery-Id` header)."""
        return f"whd_{self.id}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The next delivery of an endpoint with the alert it carries, as stored."""

    delivery: Delivery
    rule_id: str
    subject: str
    kind: str
    fired_at: float
    value_json: str
    details_json: str


class EndpointStore(Protocol):
    async def add(self, endpoint: Endpoint) -> None: ...

    async def get(self, endpoint_id: str) -> Endpoint | None: ...

    def of_client(self, client_id: str) -> list[Endpoint]:
        """The app's endpoints, oldest first (memory)."""

    async def rotate(
        self, endpoint_id: str, sealed: str, previous: str, until: float, at: float
    ) -> Endpoint | None: ...

    async def delete(self, client_id: str, endpoint_id: str) -> bool:
        """The endpoint, its deliveries and its lease; False if the app has no such one."""


class DeliveryStore(Protocol):
    async def due_endpoints(self, now: float, limit: int) -> list[str]:
        """Endpoints with a pending delivery due by `now`."""

    async def head(self, endpoint_id: str) -> Outgoing | None:
        """The endpoint's oldest pending delivery (deliveries go out in id order)."""

    async def delivered(self, delivery_id: int, attempts: int, status: int, at: float) -> None: ...

    async def failed(
        self,
        delivery_id: int,
        attempts: int,
        next_at: float,
        status: int | None,
        error: str,
        dead: bool,
    ) -> None: ...

    async def page(
        self, endpoint_id: str, state: DeliveryState | None, after_id: int, limit: int
    ) -> list[Delivery]: ...

    async def get(self, endpoint_id: str, delivery_id: int) -> Delivery | None: ...

    async def replay(self, endpoint_id: str, delivery_id: int) -> bool:
        """A dead or delivered delivery pending again (attempts from zero); False if it is not
        one of those."""

    async def replay_dead(self, endpoint_id: str) -> int:
        """Every dead delivery of the endpoint pending again: how many."""

    async def claim(self, endpoint_id: str, owner: str, until: float, now: float) -> bool:
        """Take or renew the endpoint's delivery lease (free, lapsed or already `owner`'s)."""

    async def release(self, endpoint_id: str, owner: str) -> None: ...
