"""SQL for alerts (statements built once; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from voltgate.alerts.rules import Rule, spec_from, spec_json
from voltgate.alerts.store import SavedState, StoredAlert
from voltgate.db.engine import Database
from voltgate.db.statements import Row, Statement
from voltgate.webhooks.outbox import ENQUEUE

_ALL_RULES = Statement(
    "SELECT id, client_id, kind, target, name, spec, subjects, created_at FROM alert_rules"
)
_RULE = Statement(
    """SELECT id, client_id, kind, target, name, spec, subjects, created_at FROM alert_rules
       WHERE id = ?"""
)
_ADD_RULE = Statement(
    """INSERT INTO alert_rules (id, client_id, kind, target, name, spec, subjects, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
)
_DELETE_STATES = Statement(
    """DELETE FROM alert_states WHERE rule_id IN
       (SELECT id FROM alert_rules WHERE id = ? AND client_id = ?)"""
)
_DELETE_RULE = Statement("DELETE FROM alert_rules WHERE id = ? AND client_id = ?")
_STATES_OF = Statement("SELECT rule_id, state FROM alert_states WHERE subject = ?")
_SAVE_STATE = Statement(
    """INSERT INTO alert_states (rule_id, subject, state, updated_at)
       SELECT CAST(? AS VARCHAR(40)), CAST(? AS VARCHAR(100)), CAST(? AS TEXT),
              CAST(? AS DOUBLE PRECISION)
       WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = ?)
       ON CONFLICT (rule_id, subject)
       DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at"""
)
_ADD_ALERT = Statement(
    """INSERT INTO alerts
       (id, client_id, rule_id, subject, kind, fired_at, value, details, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"""
)
_AFTER = Statement(
    """SELECT id, client_id, rule_id, subject, kind, fired_at, value, details, created_at
       FROM alerts WHERE client_id = ? AND id > ? ORDER BY id LIMIT ?"""
)


def _rule(row: Row) -> Rule:
    rule_id, client_id, kind, target, name, spec, subjects, created_at = row
    return Rule(
        id=rule_id,
        client_id=client_id,
        target=target,
        name=name,
        spec=spec_from(kind, orjson.loads(spec)),
        subjects=tuple(orjson.loads(subjects)),
        created_at=created_at,
    )


def _alert(row: Row) -> StoredAlert:
    alert_id, client_id, rule_id, subject, kind, fired_at, value, details, created_at = row
    decoded = orjson.loads(value)
    return StoredAlert(
        id=alert_id,
        client_id=client_id,
        rule_id=rule_id,
        subject=subject,
        kind=kind,
        fired_at=fired_at,
        value=tuple(decoded) if isinstance(decoded, list) else decoded,
        details=orjson.loads(details),
        created_at=created_at,
    )


def _state_args(state: SavedState) -> tuple[Any, ...]:
    return (state.rule_id, state.subject, state.state, state.at, state.rule_id)


class SqlAlertStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all_rules(self) -> list[Rule]:
        return [_rule(row) for row in await self._db.reader.scan(_ALL_RULES)]

    async def rule(self, rule_id: str) -> Rule | None:
        row = await self._db.reader.one(_RULE, rule_id)
        return None if row is None else _rule(row)

    async def add_rule(self, rule: Rule) -> None:
        await self._db.run(
            _ADD_RULE,
            rule.id,
            rule.client_id,
            rule.kind,
            rule.target,
            rule.name,
            orjson.dumps(spec_json(rule.spec)).decode(),
            orjson.dumps(list(rule.subjects)).decode(),
            rule.created_at,
        )

    async def delete_rule(self, client_id: str, rule_id: str) -> bool:
        counts = await self._db.run_together(
            (_DELETE_STATES, (rule_id, client_id)), (_DELETE_RULE, (rule_id, client_id))
        )
        return counts[-1] == 1

    async def states_of(self, subject: str) -> list[tuple[str, str]]:
        return [(str(r[0]), str(r[1])) for r in await self._db.reader.all(_STATES_OF, subject)]

    async def save_states(self, states: Sequence[SavedState]) -> None:
        if states:
            await self._db.run_together((_SAVE_STATE, [_state_args(s) for s in states]))

    async def fire(self, alerts: Sequence[StoredAlert], states: Sequence[SavedState]) -> list[bool]:
        runs: list[tuple[Statement, tuple[Any, ...] | list[Any]]] = []
        for alert in alerts:
            runs.append(
                (
                    _ADD_ALERT,
                    (
                        alert.id,
                        alert.client_id,
                        alert.rule_id,
                        alert.subject,
                        alert.kind,
                        alert.fired_at,
                        orjson.dumps(alert.value).decode(),
                        orjson.dumps(alert.details).decode(),
                        alert.created_at,
                    ),
                )
            )
            runs.append((ENQUEUE, (alert.id, alert.created_at, alert.client_id, alert.id)))
        if states:
            runs.append((_SAVE_STATE, [_state_args(s) for s in states]))
        counts = await self._db.run_together(*runs)
        return [counts[2 * i] == 1 for i in range(len(alerts))]

    async def after(self, client_id: str, after_id: str, limit: int) -> list[StoredAlert]:
        rows = await self._db.reader.all(_AFTER, client_id, after_id, limit)
        return [_alert(row) for row in rows]
