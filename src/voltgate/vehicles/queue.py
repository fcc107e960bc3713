"""Changes to one vehicle, in the order they were asked for, written together: the car takes its
commands one at a time, and so does its record.

While a vehicle's change is being written, the changes asked for meanwhile wait; once that
write has committed they are decided in turn, each on the state the one before it left, and
written as one compare-and-set from the state they started on to the state the last one left.
A change that also starts or ends a charging session is written on its own (its rows are more
than the vehicle's). Each caller is answered once its change has committed, with the state its
own change left. A compare-and-set lost to another instance decides the run again on the
winner's state; after `attempts` losses in a row its callers get 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound
from voltgate.vehicles.commands import Outcome
from voltgate.vehicles.store import Transition, Vehicle, VehicleStore

Change = Callable[[Vehicle, float], tuple[Transition | None, Outcome | None]]
Decided = tuple[Vehicle, Outcome | None]
_Asked = tuple[Change, "asyncio.Future[Decided]"]


def _answer(future: asyncio.Future[Decided], result: Decided | BaseException) -> None:
    if future.done():  # its caller went away
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


class ChangeQueue:
    def __init__(self, store: VehicleStore, clock: Clock, attempts: int) -> None:
        self._store = store
        self._clock = clock
        self._attempts = attempts
        self._waiting: dict[int, list[_Asked]] = {}  # by vehicle: asked since its last write
        self._writers: set[asyncio.Task[None]] = set()

    async def change(self, vehicle_id: int, make: Change) -> Decided:
        """`make` decided on the vehicle as its earlier changes leave it, and stored."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decided] = loop.create_future()
        waiting = self._waiting.get(vehicle_id)
        if waiting is None:
            waiting = self._waiting[vehicle_id] = []
            writer = loop.create_task(self._drain(vehicle_id))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        waiting.append((make, future))
        return await future

    async def _drain(self, vehicle_id: int) -> None:
        while batch := self._waiting[vehicle_id]:
            self._waiting[vehicle_id] = []
            try:
                await self._write(vehicle_id, batch)
            except Exception as exc:  # the database failed: nothing of these was stored
                for _, future in batch:
                    _answer(future, exc)
        del self._waiting[vehicle_id]

    async def _write(self, vehicle_id: int, pending: list[_Asked]) -> None:
        lost = 0
        while pending:
            held = await self._store.get(vehicle_id)
            if held is None:
                for _, future in pending:
                    _answer(future, NotFound(f"no vehicle {vehicle_id}"))
                return
            change, answers, taken = self._decide(held, pending)
            if change is not None:
                stored = await self._store.apply(change)
                if stored is None:  # another instance's change won: decide again on it
                    lost += 1
                    if lost < self._attempts:
                        continue
                    refused = Conflict("the vehicle is being changed by other requests; try again")
                    answers = [(future, refused) for future, _ in answers]
                elif change.start is not None or change.ends:  # alone: as stored (session id)
                    future, (_, outcome) = answers[-1]
                    answers[-1] = (future, (stored, outcome))
            for future, result in answers:
                _answer(future, result)
            pending, lost = pending[taken:], 0

    def _decide(
        self, held: Vehicle, pending: list[_Asked]
    ) -> tuple[Transition | None, list[tuple[asyncio.Future[Decided], Any]], int]:
        """The write for the longest run of `pending` that goes in one, the answers of that
        run, and its length."""
        now = self._clock.now()
        state = held
        answers: list[tuple[asyncio.Future[Decided], Any]] = []
        for at, (make, future) in enumerate(pending):
            try:
                change, outcome = make(state, now)
            except Exception as exc:  # refused (asleep, out of range): nothing to write
                answers.append((future, exc))
                continue
            if change is None:
                answers.append((future, (state, outcome)))
            elif change.start is None and not change.ends:
                state = change.after
                answers.append((future, (state, outcome)))
            elif state is held:  # a session starts or ends: written alone
                answers.append((future, (change.after, outcome)))
                return change, answers, at + 1
            else:  # after the run before it
                return Transition(held, state), answers, at
        return (None if state is held else Transition(held, state)), answers, len(pending)
