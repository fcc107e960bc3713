"""The engine: each (rule, subject) pair's state machine, fed the signals of committed batches,
and the alerts they fire stored durably.

`observe(signals)` evaluates a batch and, if anything fired, stores the firing machines' states,
the alerts and a webhook delivery per endpoint of their app (the outbox) in one transaction; it
returns once that has committed. If the write fails, every machine the batch touched is put back
as it was and the exception propagates: the batch counts as not observed and may be observed
again.

Restart: a machine's state is saved with every alert it fires (same transaction) and, for
machines that changed without firing, every `flush_seconds` and at stop; a machine is made from
its saved state the first time its subject is seen. So a restart never fires a crossing again
(its "fired" state was committed with the alert) and at worst repeats up to `flush_seconds` of
quieter progress (a pending threshold restarts its minimum duration, a delta window misses
those samples). A signal older than the last one a machine took is ignored, and an alert is
unique per (rule, subject, moment): the same batch observed again fires nothing.

Several processes: every write of a state names the version it was read at, and an alert is
stored only with its machine's state. If another process wrote that state meanwhile (it saw the
same subject), the write loses, nothing of it is stored and the subject's machines are read
again from the database: a crossing is never fired twice, though progress another process made
in its last `flush_seconds` may be missed. A subject's signals normally reach one process (a
vehicle's connection lives on one instance); a subject not fed for `idle_seconds` is saved and
dropped from memory, so one that moved is read back from the database where it went.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import structlog

from voltgate.alerts.audience import Audience
from voltgate.alerts.held import Held, Key
from voltgate.alerts.machines import Alert
from voltgate.alerts.rules import Rule
from voltgate.alerts.signals import CHARGERS, Signal, from_readings, in_order, target_of
from voltgate.alerts.store import AlertStore, Firing, RuleStore, StoredAlert
from voltgate.clock import Clock
from voltgate.ids import new_id
from voltgate.telemetry.store import Reading

log = structlog.get_logger("voltgate.alerts")
Fired = Callable[[list[StoredAlert]], None]
Before = dict[Key, dict[str, object]]  # the machines a batch touched, as they were
# Signals submitted and not yet evaluated past which more are dropped (and logged) rather than
# held without bound when evaluation falls behind.
MAX_QUEUED = 1_000_000


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
        self._held = Held(store.states_of)
        self._lock = asyncio.Lock()
        self._targets: tuple[int, dict[str, list[Rule]], dict[str, frozenset[str]]] = (-1, {}, {})
        self._read: frozenset[str] = frozenset()  # every field some rule reads
        self._queue: list[Signal] = []
        self._feeder: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.fired = self.lost = 0  # alerts stored; state writes another process won

    # -- feeding -------------------------------------------------------------------------

    async def observe(self, signals: Sequence[Signal]) -> list[StoredAlert]:
        """Evaluate committed signals; the alerts they fired, once stored with their deliveries."""
        by_target, fields = self._by_target()
        if not signals or not by_target:
            return []
        read = self._read
        wanted_signals = [s for s in signals if s.field in read]
        async with self._lock:
            held, now = self._held, self._clock.now()
            fired: list[Alert] = []
            before: Before = {}
            seen: dict[tuple[str, str], bool] = {}
            for subject, sequence in in_order(wanted_signals).items():
                target = target_of(subject)
                wanted = fields.get(target)
                if not wanted or not any(s.field in wanted for s in sequence):
                    continue
                applicable = await self._applicable(by_target[target], subject, target, seen)
                if not applicable:
                    continue
                held.seen[subject] = now
                for key, machine in await held.for_subject(subject, applicable):
                    if key not in before:
                        before[key] = machine.state()
                    for signal in sequence:
                        fired += machine.feed(signal)
                    held.fed(key, machine)
            return await self._store_fired(fired, before) if fired else []

    def submit(self, signals: Sequence[Signal]) -> None:
        """`observe` later, in order, without waiting (a listener on an ingest path); a failure
        is logged."""
        if not signals or not self._by_target()[0]:
            return
        if len(self._queue) + len(signals) > MAX_QUEUED:
            log.warning("alert_signals_dropped", signals=len(signals), queued=len(self._queue))
            return
        self._queue.extend(signals)
        if self._feeder is None:
            self._feeder = asyncio.get_running_loop().create_task(self._feed())

    def readings(self, batch: Sequence[Reading]) -> None:
        """The charger telemetry listener: committed readings, as signals (`submit`)."""
        if CHARGERS in self._by_target()[0]:
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
            held, now = self._held, self._clock.now()
            live = {rule.id for rule in self._rules.everything()[1]}
            for key in [k for k in held.machines if k[0] not in live]:
                held.forget(key)
            fired: list[Alert] = []
            before: Before = {}
            for key in list(held.waiting):
                machine = held.machines[key]
                state = machine.state()
                ticked = machine.tick(now)
                if ticked:
                    before[key] = state
                    fired += ticked
                if machine.deadline() is None:
                    held.waiting.discard(key)
            stored = await self._store_fired(fired, before) if fired else []
            dirty = [k for k in held.dirty if k in held.machines]
            if dirty:
                written = await self._store.save_states([held.saved_state(k, now) for k in dirty])
                for key, ok in zip(dirty, written, strict=True):
                    self._wrote(key, ok)
            held.dirty.clear()
            for subject in held.idle(now, self._idle_seconds):
                held.drop_subject(subject)
            return stored

    # -- inside ----------------------------------------------------------------------------

    def fields(self, target: str) -> frozenset[str]:
        """The fields some rule of `target` (vehicles, chargers) reads: a feeder builds signals
        of these only (none: no rule to feed)."""
        return self._by_target()[1].get(target, frozenset())

    def _by_target(self) -> tuple[dict[str, list[Rule]], dict[str, frozenset[str]]]:
        """The rules by target and the fields each target's rules read, rebuilt on a change."""
        version, rules = self._rules.everything()
        held_version, by_target, fields = self._targets
        if held_version != version:
            by_target = {}
            collected: dict[str, set[str]] = {}
            for rule in sorted(rules, key=lambda r: r.id):
                by_target.setdefault(rule.target, []).append(rule)
                collected.setdefault(rule.target, set()).update(rule.spec.fields(rule.target))
            fields = {target: frozenset(names) for target, names in collected.items()}
            self._targets = (version, by_target, fields)
            self._read = frozenset().union(*fields.values())
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

    async def _store_fired(self, fired: list[Alert], before: Before) -> list[StoredAlert]:
        held, now = self._held, self._clock.now()
        owners = {rule.id: rule.client_id for rule in self._rules.everything()[1]}
        by_key: dict[Key, list[StoredAlert]] = {}
        for a in fired:
            if a.rule_id in owners and (a.rule_id, a.subject) in held.machines:
                by_key.setdefault((a.rule_id, a.subject), []).append(
                    StoredAlert(
                        id=new_id("alr_"),
                        client_id=owners[a.rule_id],
                        rule_id=a.rule_id,
                        subject=a.subject,
                        kind=a.kind,
                        fired_at=a.fired_at,
                        value=a.value,
                        details=a.details,
                        created_at=now,
                    )
                )
        firings = [Firing(held.saved_state(k, now), tuple(a)) for k, a in by_key.items()]
        try:
            results = await self._store.fire(firings)
        except BaseException:
            for key, state in before.items():
                machine = held.machines.get(key)
                if machine is not None:
                    machine.restore(state)
            raise
        stored: list[StoredAlert] = []
        for firing, (written, new) in zip(firings, results, strict=True):
            self._wrote((firing.state.rule_id, firing.state.subject), written)
            stored += [alert for alert, is_new in zip(firing.alerts, new, strict=True) if is_new]
        self.fired += len(stored)
        if stored:
            for listener in self._on_fired:
                listener(stored)
        return stored

    def _wrote(self, key: Key, written: bool) -> None:
        if written:
            self._held.written(key)
        else:
            self.lost += 1
            self._held.lost(key)
