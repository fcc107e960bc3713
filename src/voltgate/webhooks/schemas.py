"""Request bodies and views of the webhooks API (`/v1/webhooks`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.pagination import DEFAULT_LIMIT, MAX_SIZE
from voltgate.webhooks.service import MAX_OVERLAP
from voltgate.webhooks.store import Delivery, Endpoint
from voltgate.webhooks.urls import MAX_URL


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(
        min_length=1,
        max_length=MAX_URL,
        description="https (http and loopback only in the sandbox)",
    )
    description: str = Field(default="", max_length=200)


class Rotate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    overlap_seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_OVERLAP,
        description="how long the current secret keeps signing beside the new one "
        "(default: the server's, 24 h)",
    )


class EndpointPath(BaseModel):
    webhook_id: str = Field(max_length=40, pattern=r"^[A-Za-z0-9_]+$")


class DeliveryPath(EndpointPath):
    delivery_id: str = Field(max_length=40, pattern=r"^[A-Za-z0-9_]+$")


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["pending", "delivered", "dead"] | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_SIZE, description="at most 100")
    cursor: str | None = Field(
        default=None, max_length=400, description="`next_cursor` of the previous response"
    )


class EndpointView(TypedDict):
    id: str
    url: str
    description: str
    created_at: float
    rotated_at: float | None
    previous_secret_expires_at: float | None


class CreatedEndpoint(EndpointView):
    secret: str


class EndpointList(TypedDict):
    items: list[EndpointView]


class Rotated(TypedDict):
    id: str
    secret: str
    previous_secret_expires_at: float


class DeliveryView(TypedDict):
    id: str
    alert_id: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None


class Replayed(TypedDict):
    replayed: int


def endpoint_view(endpoint: Endpoint, now: float) -> EndpointView:
    until = endpoint.previous_until
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "created_at": endpoint.created_at,
        "rotated_at": endpoint.rotated_at,
        "previous_secret_expires_at": until if until is not None and until > now else None,
    }


def delivery_view(delivery: Delivery) -> DeliveryView:
    return {
        "id": delivery.public_id,
        "alert_id": delivery.alert_id,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }
