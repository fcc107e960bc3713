"""Alerts as the API offers them: an app's rules (created with strict checks, listed, deleted)
and the alerts they fired, by cursor; `observe` is the evaluator's (`evaluator.Engine`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from voltgate.alerts.evaluator import Engine
from voltgate.alerts.rules import (
    CONNECTOR_FAULTED,
    DELTA,
    STOPPED_BELOW_TARGET,
    THRESHOLD,
    ConnectorFaulted,
    Delta,
    Rule,
    Spec,
    StoppedBelowTarget,
    Threshold,
)
from voltgate.alerts.schemas import VEHICLE_NUMBERS, RuleCreate
from voltgate.alerts.signals import CHARGER_NUMBERS, CHARGERS, VEHICLES, Signal
from voltgate.alerts.store import AlertStore, RuleStore, StoredAlert
from voltgate.clock import Clock
from voltgate.errors import Conflict, InsufficientScope, NotFound, ValidationFailed
from voltgate.identity.clients import ClientKind
from voltgate.ids import new_id
from voltgate.pagination import Slice, decode_cursor, slice_of

_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_CHARGER = re.compile(r"^[A-Za-z0-9_-]{1,64}(:[0-9]{1,3})?$")
_PARAMS = {
    THRESHOLD: ({"field", "op", "value"}, {"hysteresis", "for_seconds"}),
    DELTA: ({"field", "direction", "by", "window_seconds"}, {"while_not_charging"}),
    STOPPED_BELOW_TARGET: (set(), {"margin"}),
    CONNECTOR_FAULTED: (set(), set()),
}
_ALL_PARAMS = set().union(*(need | may for need, may in _PARAMS.values()))
# A kind that watches only one target.
_ONLY = {STOPPED_BELOW_TARGET: VEHICLES, CONNECTOR_FAULTED: CHARGERS}
# What an app of each kind watches, and the scope its token needs for it.
_TARGET_OF_KIND = {ClientKind.THIRD_PARTY.value: VEHICLES, ClientKind.OPERATOR.value: CHARGERS}
_SCOPE = {VEHICLES: "vehicle_device_data", CHARGERS: "read"}


def build_spec(body: RuleCreate) -> Spec:
    """The rule's parameters, refusing any its kind does not take (400 naming it)."""
    need, may = _PARAMS[body.kind]
    given = {name for name in _ALL_PARAMS if getattr(body, name) is not None}
    extra = sorted(given - need - may)
    if extra:
        raise ValidationFailed(f"{extra[0]}: not a parameter of a {body.kind} rule")
    missing = sorted(need - given)
    if missing:
        raise ValidationFailed(f"{missing[0]}: required for a {body.kind} rule")
    if body.kind == THRESHOLD:
        assert body.field is not None and body.op is not None and body.value is not None
        return Threshold(
            body.field, body.op, body.value, body.hysteresis or 0.0, body.for_seconds or 0.0
        )
    if body.kind == DELTA:
        assert body.field and body.direction and body.by and body.window_seconds
        return Delta(
            body.field,
            body.direction,
            body.by,
            body.window_seconds,
            bool(body.while_not_charging),
        )
    if body.kind == STOPPED_BELOW_TARGET:
        return StoppedBelowTarget(body.margin or 0.0)
    return ConnectorFaulted()


class Alerts:
    def __init__(
        self,
        rules: RuleStore,
        store: AlertStore,
        engine: Engine,
        clock: Clock,
        *,
        max_rules: int = 100,
    ) -> None:
        self._rules = rules
        self._store = store
        self.engine = engine
        self._clock = clock
        self._max_rules = max_rules

    async def observe(self, signals: Sequence[Signal]) -> list[StoredAlert]:
        """Evaluate committed signals (see `Engine.observe`)."""
        return await self.engine.observe(signals)

    async def create_rule(
        self, client_id: str, client_kind: str, scopes: frozenset[str], body: RuleCreate
    ) -> Rule:
        own = _TARGET_OF_KIND.get(client_kind)
        target = body.target or _ONLY.get(body.kind) or own or VEHICLES
        if target != own:
            raise ValidationFailed(
                f"target: a {client_kind} app's rules watch its {own or 'nothing'}"
            )
        only = _ONLY.get(body.kind)
        if only is not None and target != only:
            raise ValidationFailed(f"target: a {body.kind} rule watches {only}")
        if _SCOPE[target] not in scopes:
            raise InsufficientScope(
                f"rules on {target} need the scope {_SCOPE[target]}", scope=_SCOPE[target]
            )
        spec = build_spec(body)
        if isinstance(spec, Threshold | Delta):
            _check_field(spec.field, target)
        for subject in body.subjects:
            if not (_VIN if target == VEHICLES else _CHARGER).match(subject):
                what = "a VIN" if target == VEHICLES else "a charger id or <device_id>:<n>"
                raise ValidationFailed(f"subjects: {subject[:40]!r} is not {what}")
        if len(self._rules.of_client(client_id)) >= self._max_rules:
            raise Conflict(f"an app may have at most {self._max_rules} alert rules")
        rule = Rule(
            id=new_id("alrr_"),
            client_id=client_id,
            target=target,
            name=body.name.strip(),
            spec=spec,
            subjects=tuple(dict.fromkeys(body.subjects)),
            created_at=self._clock.now(),
        )
        await self._rules.add_rule(rule)
        return rule

    def rules(self, client_id: str) -> list[Rule]:
        return self._rules.of_client(client_id)

    async def delete_rule(self, client_id: str, rule_id: str) -> None:
        if "\x00" in rule_id or not await self._rules.delete_rule(client_id, rule_id[:40]):
            raise NotFound(f"no alert rule {rule_id[:40]!r}")

    async def alerts(
        self, client_id: str, cursor: str | None, after: str | None, limit: int
    ) -> Slice[StoredAlert]:
        """The app's alerts oldest first: after `after` (an alert id) or the `cursor` a previous
        slice gave."""
        if cursor is not None and after is not None:
            raise ValidationFailed("query: give cursor or after, not both")
        start = after if after is not None else decode_cursor(cursor) or ""
        rows = await self._store.after(client_id, start, limit + 1)
        return slice_of(rows, limit, _alert_id)


def _alert_id(alert: StoredAlert) -> str:
    return alert.id


def _check_field(field: str, target: str) -> None:
    known = VEHICLE_NUMBERS if target == VEHICLES else CHARGER_NUMBERS
    if field not in known:
        raise ValidationFailed(
            f"field: {field[:64]!r} is not a numeric {target[:-1]} field; one of "
            + ", ".join(sorted(known))
        )
