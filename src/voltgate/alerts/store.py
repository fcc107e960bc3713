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
    """A rule's state machine for one subject, as JSON text, and the version of the stored state
    this process last read or wrote (0: none stored yet). A write of it succeeds only while the
    stored version is still that one: another process's write in between wins."""

    rule_id: str
    subject: str
    state: str
    version: int
    at: float


@dataclass(frozen=True, slots=True)
class Firing:
    """A machine's new state and the alerts it fired: stored together or not at all."""

    state: SavedState
    alerts: tuple[StoredAlert, ...]


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
    async def states_of(self, subject: str) -> list[tuple[str, str, int]]:
        """(rule id, state JSON, version) of every rule that saved a state for `subject`."""

    async def save_states(self, states: Sequence[SavedState]) -> list[bool]:
        """Write each state unless its stored version moved on (or its rule is gone), in one
        transaction: for each, whether it was written."""

    async def fire(self, firings: Sequence[Firing]) -> list[tuple[bool, list[bool]]]:
        """In one transaction, for each firing: its state, as `save_states` would, and only if
        that was written its alerts, each with a webhook delivery per endpoint its app has.
        For each firing: whether its state was written, and for each alert whether it is new
        (False also when that rule fired for that subject at that moment before)."""

    async def after(self, client_id: str, after_id: str, limit: int) -> list[StoredAlert]:
        """The app's alerts with ids after `after_id` ("" for the first), in id order."""
