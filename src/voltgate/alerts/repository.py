"""SQL for alerts (statements built once; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from voltgate.alerts.rules import Rule, spec_from, spec_json
from voltgate.alerts.store import Firing, SavedState, StoredAlert
from voltgate.db.engine import Database
from voltgate.db.statements import Row, Statement
from voltgate.ids import unique_hex
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
_STATES_OF = Statement("SELECT rule_id, state, version FROM alert_states WHERE subject = ?")
# A state written over the version this process read (0 rows: another process wrote since).
_UPDATE_STATE = Statement(
    """UPDATE alert_states SET state = ?, version = version + 1, writer = ?, updated_at = ?
       WHERE rule_id = ? AND subject = ? AND version = ?"""
)
# A first state (0 rows: another process stored one first, or the rule is gone).
_FIRST_STATE = Statement(
    """INSERT INTO alert_states (rule_id, subject, state, version, writer, updated_at)
       SELECT CAST(? AS VARCHAR(40)), CAST(? AS VARCHAR(100)), CAST(? AS TEXT), 1,
              CAST(? AS VARCHAR(40)), CAST(? AS DOUBLE PRECISION)
       WHERE EXISTS (SELECT 1 FROM alert_rules WHERE id = ?)
       ON CONFLICT (rule_id, subject) DO NOTHING"""
)
# An alert, only if its machine's state was written by the same transaction (its writer).
_ADD_ALERT = Statement(
    """INSERT INTO alerts
       (id, client_id, rule_id, subject, kind, fired_at, value, details, created_at)
       SELECT CAST(? AS VARCHAR(40)), CAST(? AS VARCHAR(64)), CAST(? AS VARCHAR(40)),
              CAST(? AS VARCHAR(100)), CAST(? AS VARCHAR(40)), CAST(? AS DOUBLE PRECISION),
              CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION)
       WHERE EXISTS (SELECT 1 FROM alert_states WHERE rule_id = ? AND subject = ? AND writer = ?)
       ON CONFLICT DO NOTHING"""
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


def _state_run(state: SavedState, writer: str) -> tuple[Statement, tuple[Any, ...]]:
    if state.version == 0:
        args = (state.rule_id, state.subject, state.state, writer, state.at, state.rule_id)
        return _FIRST_STATE, args
    return _UPDATE_STATE, (
        state.state,
        writer,
        state.at,
        state.rule_id,
        state.subject,
        state.version,
    )


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

    async def states_of(self, subject: str) -> list[tuple[str, str, int]]:
        rows = await self._db.reader.all(_STATES_OF, subject)
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def save_states(self, states: Sequence[SavedState]) -> list[bool]:
        if not states:
            return []
        writer = unique_hex(10)
        counts = await self._db.run_together(*(_state_run(s, writer) for s in states))
        return [count == 1 for count in counts]

    async def fire(self, firings: Sequence[Firing]) -> list[tuple[bool, list[bool]]]:
        runs: list[tuple[Statement, tuple[Any, ...] | list[Any]]] = []
        for firing in firings:
            state, writer = firing.state, unique_hex(10)
            runs.append(_state_run(state, writer))
            for alert in firing.alerts:
                values = (
                    alert.id,
                    alert.client_id,
                    alert.rule_id,
                    alert.subject,
                    alert.kind,
                    alert.fired_at,
                    orjson.dumps(alert.value).decode(),
                    orjson.dumps(alert.details).decode(),
                    alert.created_at,
                )
                runs.append((_ADD_ALERT, (*values, state.rule_id, state.subject, writer)))
                runs.append((ENQUEUE, (alert.id, alert.created_at, alert.client_id, alert.id)))
        counts = iter(await self._db.run_together(*runs))
        out: list[tuple[bool, list[bool]]] = []
        for firing in firings:
            written = next(counts) == 1
            new: list[bool] = []
            for _ in firing.alerts:
                new.append(next(counts) == 1)
                next(counts)  # the deliveries it enqueued
            out.append((written, new))
        return out

    async def after(self, client_id: str, after_id: str, limit: int) -> list[StoredAlert]:
        rows = await self._db.reader.all(_AFTER, client_id, after_id, limit)
        return [_alert(row) for row in rows]
