"""Webhooks on voltgate's own paths (`/v1/webhooks`): an app's endpoints, their secrets (shown
once, rotated with overlap), their deliveries and replays. The app's own token, as for alerts
(`alerts.APP`). docs/alerts.md shows how a receiver checks a delivery's signature."""

from __future__ import annotations

from voltgate.clock import Clock
from voltgate.dialects.canonical.alerts import APP
from voltgate.errors import RESOURCE_ERRORS
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.pagination import SliceView, slice_view
from voltgate.webhooks.schemas import (
    CreatedEndpoint,
    DeliveryPath,
    DeliveryQuery,
    DeliveryView,
    EndpointCreate,
    EndpointList,
    EndpointPath,
    EndpointView,
    Replayed,
    Rotate,
    Rotated,
    delivery_view,
    endpoint_view,
)
from voltgate.webhooks.service import Webhooks

_MAX_BODY = 8 * 1024


class WebhookRoutes:
    def __init__(self, webhooks: Webhooks, clock: Clock) -> None:
        self._webhooks = webhooks
        self._clock = clock

    async def create(self, call: Call[None, None, EndpointCreate]) -> CreatedEndpoint:
        body = call.body
        client_id = call.principal.claims.client_id
        endpoint, secret = await self._webhooks.register(client_id, body.url, body.description)
        return {**endpoint_view(endpoint, self._clock.now()), "secret": secret}

    async def list(self, call: Call[None, None, None]) -> EndpointList:
        now = self._clock.now()
        owned = self._webhooks.endpoints(call.principal.claims.client_id)
        return {"items": [endpoint_view(e, now) for e in owned]}

    async def show(self, call: Call[EndpointPath, None, None]) -> EndpointView:
        client_id = call.principal.claims.client_id
        endpoint = await self._webhooks.endpoint(client_id, call.path.webhook_id)
        return endpoint_view(endpoint, self._clock.now())

    async def delete(self, call: Call[EndpointPath, None, None]) -> None:
        await self._webhooks.delete(call.principal.claims.client_id, call.path.webhook_id)

    async def rotate(self, call: Call[EndpointPath, None, Rotate | None]) -> Rotated:
        overlap = None if call.body is None else call.body.overlap_seconds
        client_id = call.principal.claims.client_id
        endpoint, secret = await self._webhooks.rotate(client_id, call.path.webhook_id, overlap)
        assert endpoint.previous_until is not None
        return {
            "id": endpoint.id,
            "secret": secret,
            "previous_secret_expires_at": endpoint.previous_until,
        }

    async def deliveries(
        self, call: Call[EndpointPath, DeliveryQuery, None]
    ) -> SliceView[DeliveryView]:
        query = call.query
        part = await self._webhooks.deliveries(
            call.principal.claims.client_id,
            call.path.webhook_id,
            query.state,
            query.cursor,
            query.limit,
        )
        return slice_view(part, delivery_view)

    async def replay(self, call: Call[DeliveryPath, None, None]) -> DeliveryView:
        path = call.path
        delivery = await self._webhooks.replay(
            call.principal.claims.client_id, path.webhook_id, path.delivery_id
        )
        return delivery_view(delivery)

    async def replay_dead(self, call: Call[EndpointPath, None, None]) -> Replayed:
        client_id = call.principal.claims.client_id
        return {"replayed": await self._webhooks.replay_dead(client_id, call.path.webhook_id)}


def mount(table: RouteTable, webhooks: Webhooks, clock: Clock) -> None:
    routes = WebhookRoutes(webhooks, clock)
    api = table.scope("/v1/webhooks", errors=RESOURCE_ERRORS, guard=APP, tags=("webhooks",))
    api.post(
        "",
        routes.create,
        body=Body.json(EndpointCreate, max_bytes=_MAX_BODY),
        status=201,
        response=CreatedEndpoint,
        failures=(409,),
        summary="Register an endpoint (its signing secret is shown once)",
    )
    api.get("", routes.list, response=EndpointList, summary="The app's webhook endpoints")
    one = {"path_model": EndpointPath, "failures": (404,)}
    api.get("/{webhook_id}", routes.show, response=EndpointView, summary="One endpoint", **one)
    api.delete(
        "/{webhook_id}",
        routes.delete,
        status=204,
        summary="Delete an endpoint and its deliveries",
        **one,
    )
    api.post(
        "/{webhook_id}/rotate",
        routes.rotate,
        body=Body.json(Rotate, optional=True, max_bytes=_MAX_BODY),
        response=Rotated,
        summary="A new signing secret; the current one keeps signing beside it for the overlap",
        **one,
    )
    api.get(
        "/{webhook_id}/deliveries",
        routes.deliveries,
        query=DeliveryQuery,
        response=SliceView[DeliveryView],
        summary="The endpoint's deliveries, oldest first (`state=dead` for the dead letters)",
        **one,
    )
    api.post(
        "/{webhook_id}/deliveries/replay-dead",
        routes.replay_dead,
        response=Replayed,
        summary="Send every dead delivery again",
        **one,
    )
    api.post(
        "/{webhook_id}/deliveries/{delivery_id}/replay",
        routes.replay,
        path_model=DeliveryPath,
        failures=(404, 409),
        response=DeliveryView,
        summary="Send a dead (or delivered) delivery again, with the same delivery id",
    )
