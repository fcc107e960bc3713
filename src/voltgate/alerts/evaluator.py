"""The engine: each (rule, subject) pair's state machine, fed the signals of committed batches,
and the alerts they fire stored durably.

`observe(signals)` evaluates a batch and, if anything fired, stores the alerts, a webhook
delivery per endpoint of their app (the outbox) and the firing machines' states in one
transaction; it returns once that has committed. If the write fails, every machine the batch
touched is put back as it was and the exception propagates: the batch counts as not observed
and may be observed again.

Restart: a machine's state is saved with every alert it fires (same transaction) and, for
machines that changed without firing, every `flush_seconds` and at stop; a machine is created
from its saved state the first time its subject is seen. So a restart never fires a crossing
again (its "fired" state was committed with the alert) and at worst repeats up to
`flush_seconds` of quieter progress (a pending threshold restarts its minimum duration, a delta
window misses those samples). The same signal observed twice (a batch redelivered) fires
nothing new: an alert is unique per (rule, subject, moment).

One process evaluates a subject at a time: the ingest routes a vehicle's (or charger's) signals
to the instance its connection is on; a machine not fed for `idle_seconds` is saved and dropped,
so a subject that moved to another instance is read back from the database there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import orjson
import structlog

from voltgate.alerts.audience import Audience
from voltgate.alerts.machines import Alert, Machine, machine_for
from voltgate.alerts.rules import Rule
from voltgate.alerts.signals import Signal, from_readings, in_order, target_of
from voltgate.alerts.store import AlertStore, RuleStore, SavedState, StoredAlert
from voltgate.clock import Clock
from voltgate.ids import new_id
from voltgate.telemetry.store import Reading

log = structlog.get_logger("voltgate.alerts")
Key = tuple[str, str]  # (rule id, subject)
Fired = Callable[[list[StoredAlert]], None]


class Engine:
    def __init__(
        self,
        rules: RuleStore,
        store: AlertStore,
        audience: Audience,
        clock: Clock,
        *,
        flush_seconds: float = 5.0,
        idle_seconds: float = 600.0,
        on_fired: Sequence[Fired] = (),
    ) -> None:
        self._rules = rules
        self._store = store
        self._audience = audience
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._idle_seconds = idle_seconds
        self._on_fired = tuple(on_fired)
        self._machines: dict[Key, Machine] = {}
        self._saved: dict[str, dict[str, str]] = {}  # subject -> rule id -> state not yet used
        self._seen: dict[str, float] = {}  # subject -> when it was last fed (clock)
        self._dirty: set[Key] = set()
        self._waiting: set[Key] = set()  # machines with a deadline
        self._lock = asyncio.Lock()
        self._targets: tuple[int, dict[str, list[Rule]], dict[str, frozenset[str]]] = (-1, {}, {})
        self._queue: list[Signal] = []
        self._feeder: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.fired = 0  # alerts stored, for tests and metrics

    # -- feeding -------------------------------------------------------------------------

    async def observe(self, signals: Sequence[Signal]) -> list[StoredAlert]:
        """Evaluate committed signals; the alerts they fired, once stored with their deliveries."""
        version, rules = self._rules.everything()
        if not signals or not rules:
            return []
        by_target, fields = self._by_target(version, rules)
        async with self._lock:
            fired: list[Alert] = []
            touched: dict[Key, dict[str, object]] = {}
            seen: dict[tuple[str, str], bool] = {}
            now = self._clock.now()
            for subject, sequence in in_order(signals).items():
                target = target_of(subject)
                wanted = fields.get(target)
                if not wanted or not any(s.field in wanted for s in sequence):
                    continue
                applicable = await self._applicable(by_target[target], subject, target, seen)
                if not applicable:
                    continue
                self._seen[subject] = now
                for key, machine in await self._machines_for(subject, applicable):
                    if key not in touched:
                        touched[key] = machine.state()
                    for signal in sequence:
                        fired += machine.feed(signal)
                    if machine.deadline() is None:
                        self._waiting.discard(key)
                    else:
                        self._waiting.add(key)
            self._dirty.update(touched)
            if not fired:
                return []
            return await self._store_fired(fired, touched)

    def submit(self, signals: Sequence[Signal]) -> None:
        """`observe` later, in order, without waiting (a listener on an ingest path); a failure
        is logged."""
        if not signals or not self._rules.everything()[1]:
            return
        self._queue.extend(signals)
        if self._feeder is None:
            self._feeder = asyncio.get_running_loop().create_task(self._feed())

    def readings(self, batch: Sequence[Reading]) -> None:
        """The charger telemetry listener: committed readings, as signals (`submit`)."""
        if self._rules.everything()[1]:
            self.submit(from_readings(batch))

    async def drain(self) -> None:
        """Wait until every submitted signal has been observed."""
        while self._feeder is not None:
            await asyncio.wait({self._feeder})

    async def _feed(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self.observe(batch)
                except Exception:
                    log.exception("alert_evaluation_failed", signals=len(batch))
        finally:
            self._feeder = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.drain()
        try:
            await self.flush()
        except Exception:
            log.exception("alert_state_flush_failed")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("alert_state_flush_failed")

    async def flush(self) -> list[StoredAlert]:
        """Fire the deadlines that passed, save the states that changed, forget idle subjects."""
        async with self._lock:
            now = self._clock.now()
            _, rules = self._rules.everything()
            live = {rule.id for rule in rules}
            for key in [k for k in self._machines if k[0] not in live]:
                self._forget(key)
            stored: list[StoredAlert] = []
            fired: list[Alert] = []
            touched: dict[Key, dict[str, object]] = {}
            for key in list(self._waiting):
                machine = self._machines[key]
                before = machine.state()
                ticked = machine.tick(now)
                if ticked:
                    touched[key] = before
                    fired += ticked
                if machine.deadline() is None:
                    self._waiting.discard(key)
            if fired:
                stored = await self._store_fired(fired, touched)
            dirty = [k for k in self._dirty if k in self._machines]
            if dirty:
                await self._store.save_states([self._saved_state(k, now) for k in dirty])
            self._dirty.clear()
            idle = [s for s, at in self._seen.items() if now - at > self._idle_seconds]
            if idle:
                gone = set(idle)
                for key in [k for k in self._machines if k[1] in gone]:
                    self._forget(key)
                for subject in idle:
                    del self._seen[subject]
                    self._saved.pop(subject, None)
            return stored

    # -- inside ----------------------------------------------------------------------------

    def _by_target(
        self, version: int, rules: list[Rule]
    ) -> tuple[dict[str, list[Rule]], dict[str, frozenset[str]]]:
        held_version, by_target, fields = self._targets
        if held_version != version:
            by_target = {}
            collected: dict[str, set[str]] = {}
            for rule in sorted(rules, key=lambda r: r.id):
                by_target.setdefault(rule.target, []).append(rule)
                collected.setdefault(rule.target, set()).update(rule.spec.fields(rule.target))
            fields = {target: frozenset(names) for target, names in collected.items()}
            self._targets = (version, by_target, fields)
        return by_target, fields

    async def _applicable(
        self, rules: list[Rule], subject: str, target: str, seen: dict[tuple[str, str], bool]
    ) -> list[Rule]:
        out: list[Rule] = []
        for rule in rules:
            if not rule.covers(subject):
                continue
            key = (rule.client_id, subject)
            allowed = seen.get(key)
            if allowed is None:
                allowed = seen[key] = await self._audience.sees(rule.client_id, subject, target)
            if allowed:
                out.append(rule)
        return out

    async def _machines_for(self, subject: str, rules: list[Rule]) -> list[tuple[Key, Machine]]:
        saved = self._saved.get(subject)
        if saved is None:
            saved = self._saved[subject] = dict(await self._store.states_of(subject))
        out: list[tuple[Key, Machine]] = []
        for rule in rules:
            key = (rule.id, subject)
            machine = self._machines.get(key)
            if machine is None:
                machine = machine_for(rule, subject)
                state = saved.pop(rule.id, None)
                if state is not None:
                    try:
                        machine.restore(orjson.loads(state))
                    except (ValueError, TypeError, KeyError):
                        log.warning("alert_state_unreadable", rule_id=rule.id)
                self._machines[key] = machine
            out.append((key, machine))
        return out

    async def _store_fired(
        self, fired: list[Alert], touched: dict[Key, dict[str, object]]
    ) -> list[StoredAlert]:
        now = self._clock.now()
        owners = {rule.id: rule.client_id for rule in self._rules.everything()[1]}
        alerts = [
            StoredAlert(
                id=new_id("alr_"),
                client_id=owners.get(a.rule_id, ""),
                rule_id=a.rule_id,
                subject=a.subject,
                kind=a.kind,
                fired_at=a.fired_at,
                value=a.value,
                details=a.details,
                created_at=now,
            )
            for a in fired
            if a.rule_id in owners
        ]
        keys = {(a.rule_id, a.subject) for a in fired}
        states = [self._saved_state(k, now) for k in keys if k in self._machines]
        try:
            new = await self._store.fire(alerts, states)
        except BaseException:
            for key, before in touched.items():
                machine = self._machines.get(key)
                if machine is not None:
                    machine.restore(before)
            raise
        self._dirty.difference_update(keys)
        stored = [alert for alert, is_new in zip(alerts, new, strict=True) if is_new]
        self.fired += len(stored)
        if stored:
            for listener in self._on_fired:
                listener(stored)
        return stored

    def _saved_state(self, key: Key, now: float) -> SavedState:
        state = orjson.dumps(self._machines[key].state()).decode()
        return SavedState(key[0], key[1], state, now)

    def _forget(self, key: Key) -> None:
        self._machines.pop(key, None)
        self._dirty.discard(key)
        self._waiting.discard(key)
