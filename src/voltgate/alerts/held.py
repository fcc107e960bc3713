"""The state machines this process holds: one per (rule, subject), each with the version of the
stored state it was read from or last wrote, which subjects were fed when, which machines
changed since they were saved (`dirty`) and which wait for a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
import structlog

from voltgate.alerts.machines import Machine, machine_for
from voltgate.alerts.rules import Rule
from voltgate.alerts.store import SavedState

log = structlog.get_logger("voltgate.alerts")
Key = tuple[str, str]  # (rule id, subject)
Load = Callable[[str], Awaitable[list[tuple[str, str, int]]]]


class Held:
    def __init__(self, load: Load) -> None:
        self._load = load
        self.machines: dict[Key, Machine] = {}
        self._versions: dict[Key, int] = {}
        self._stored: dict[str, dict[str, tuple[str, int]]] = {}  # subject -> not yet used
        self.seen: dict[str, float] = {}  # subject -> when it was last fed
        self.dirty: set[Key] = set()
        self.waiting: set[Key] = set()

    async def for_subject(self, subject: str, rules: list[Rule]) -> list[tuple[Key, Machine]]:
        """The subject's machines of these rules: held, else made from the stored state (read
        once per subject while it is held), else new."""
        stored = self._stored.get(subject)
        if stored is None:
            rows = await self._load(subject)
            stored = self._stored[subject] = {rule: (state, v) for rule, state, v in rows}
        out: list[tuple[Key, Machine]] = []
        for rule in rules:
            key = (rule.id, subject)
            machine = self.machines.get(key)
            if machine is None:
                machine = machine_for(rule, subject)
                state, version = stored.pop(rule.id, (None, 0))
                if state is not None:
                    try:
                        machine.restore(orjson.loads(state))
                    except (ValueError, TypeError, KeyError):
                        log.warning("alert_state_unreadable", rule_id=rule.id)
                self.machines[key] = machine
                self._versions[key] = version
            out.append((key, machine))
        return out

    def fed(self, key: Key, machine: Machine) -> None:
        self.dirty.add(key)
        if machine.deadline() is None:
            self.waiting.discard(key)
        else:
            self.waiting.add(key)

    def saved_state(self, key: Key, now: float) -> SavedState:
        state = orjson.dumps(self.machines[key].state()).decode()
        return SavedState(key[0], key[1], state, self._versions[key], now)

    def written(self, key: Key) -> None:
        """Its state is stored (one version on)."""
        if key in self.machines:
            self._versions[key] += 1
            self.dirty.discard(key)

    def lost(self, key: Key) -> None:
        """Another process wrote the state first (or the rule is gone): drop the subject's
        machines, read again from the database when it is next fed."""
        self.drop_subject(key[1])

    def drop_subject(self, subject: str) -> None:
        for key in [k for k in self.machines if k[1] == subject]:
            self.forget(key)
        self._stored.pop(subject, None)
        self.seen.pop(subject, None)

    def forget(self, key: Key) -> None:
        self.machines.pop(key, None)
        self._versions.pop(key, None)
        self.dirty.discard(key)
        self.waiting.discard(key)

    def idle(self, now: float, seconds: float) -> list[str]:
        return [subject for subject, at in self.seen.items() if now - at > seconds]
