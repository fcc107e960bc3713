"""What the alerts area stores, and the storage it needs (`repository.py` implements it for
SQLite and PostgreSQL, `readmodel.py` holds the rules in memory over it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from voltgate.alerts.rules import Rule
from voltgate.alerts.signals import Value


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: str
    client_id: str
    rule_id: str
    subject: str
    kind: str
    fired_at: float
    value: Value
    details: dict[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True)
class SavedState:
    """A rule's state machine for one subject, as JSON text."""

    rule_id: str
    subject: str
    state: str
    at: float


class RuleStore(Protocol):
    async def all_rules(self) -> list[Rule]: ...

    async def rule(self, rule_id: str) -> Rule | None: ...

    async def add_rule(self, rule: Rule) -> None: ...

    async def delete_rule(self, client_id: str, rule_id: str) -> bool:
        """Delete the app's rule and its states; False if it has no such rule."""

    def of_client(self, client_id: str) -> list[Rule]:
        """The app's rules, oldest first (memory)."""

    def everything(self) -> tuple[int, list[Rule]]:
        """Every rule and a number that changes whenever any rule does (memory)."""


class AlertStore(Protocol):
    async def states_of(self, subject: str) -> list[tuple[str, str]]:
        """(rule id, state JSON) of every rule that saved a state for `subject`."""

    async def save_states(self, states: Sequence[SavedState]) -> None:
        """Upsert states, in one transaction; a state of a rule deleted meanwhile is dropped."""

    async def fire(self, alerts: Sequence[StoredAlert], states: Sequence[SavedState]) -> list[bool]:
        """Store the alerts, a webhook delivery for each of their app's endpoints and the states,
        in one transaction: for each alert whether it is new (False: that rule fired for that
        subject at that moment before)."""

    async def after(self, client_id: str, after_id: str, limit: int) -> list[StoredAlert]:
        """The app's alerts with ids after `after_id` ("" for the first), in id order."""
