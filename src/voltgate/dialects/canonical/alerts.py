"""Alerts on voltgate's own paths: an app's rules (`/v1/alerts/rules`) and the alerts they fired
(`/v1/alerts`), plain JSON with cursor slices.

"An app" is the client-credentials token of the app's own client: a `third_party` app (its
rules watch the vehicles whose owners consented to it with `vehicle_device_data`) or an
`operator` (its chargers). A token a user granted the same app is refused (403): rules and
webhooks belong to the app, not to one of its users."""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.alerts.schemas import (
    AlertQuery,
    AlertView,
    RuleCreate,
    RuleList,
    RuleView,
    alert_view,
    rule_view,
)
from voltgate.alerts.service import Alerts
from voltgate.errors import RESOURCE_ERRORS, Forbidden
from voltgate.http.guards import Guard
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.pagination import SliceView, slice_view

_MAX_BODY = 8 * 1024


@dataclass(frozen=True, slots=True)
class AppGuard(Guard):
    """The kinds' check, then: the token is the app's own (client credentials: its subject
    is the client), not one a user granted."""

    def admit(self, principal: Principal) -> Principal:
        Guard.admit(self, principal)
        claims = principal.claims
        if claims.subject != claims.client_id:
            raise Forbidden(
                "this endpoint needs the app's own token (client credentials), not a token "
                "a user granted"
            )
        return principal


APP = AppGuard(kinds=(ClientKind.THIRD_PARTY.value, ClientKind.OPERATOR.value))


class AlertRoutes:
    def __init__(self, alerts: Alerts) -> None:
        self._alerts = alerts

    async def create_rule(self, call: Call[None, None, RuleCreate]) -> RuleView:
        claims = call.principal.claims
        rule = await self._alerts.create_rule(
            claims.client_id, claims.kind, frozenset(claims.scopes), call.body
        )
        return rule_view(rule)

    async def rules(self, call: Call[None, None, None]) -> RuleList:
        owned = self._alerts.rules(call.principal.claims.client_id)
        return {"items": [rule_view(rule) for rule in owned]}

    async def delete_rule(self, call: Call[None, None, None]) -> None:
        await self._alerts.delete_rule(call.principal.claims.client_id, call.params["rule_id"])

    async def alerts(self, call: Call[None, AlertQuery, None]) -> SliceView[AlertView]:
        query = call.query
        part = await self._alerts.alerts(
            call.principal.claims.client_id, query.cursor, query.after, query.limit
        )
        return slice_view(part, alert_view)


def mount(table: RouteTable, alerts: Alerts) -> None:
    routes = AlertRoutes(alerts)
    api = table.scope("/v1/alerts", errors=RESOURCE_ERRORS, guard=APP, tags=("alerts",))
    api.get(
        "",
        routes.alerts,
        query=AlertQuery,
        response=SliceView[AlertView],
        summary="The app's alerts, oldest first, by cursor (or after an alert id)",
    )
    api.post(
        "/rules",
        routes.create_rule,
        body=Body.json(RuleCreate, max_bytes=_MAX_BODY),
        status=201,
        response=RuleView,
        failures=(409,),
        summary="Create an alert rule",
        description="Kinds: `threshold` (field, op, value, hysteresis, for_seconds), `delta` "
        "(field, direction, by, window_seconds, while_not_charging), "
        "`charging_stopped_below_target` (margin), `connector_faulted`. A parameter the kind "
        "does not take is refused.",
    )
    api.get("/rules", routes.rules, response=RuleList, summary="The app's alert rules")
    api.delete(
        "/rules/{rule_id}",
        routes.delete_rule,
        status=204,
        failures=(404,),
        summary="Delete an alert rule (its alerts stay)",
    )
