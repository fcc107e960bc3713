"""Long-polls waiting for their charger's next command, woken the moment one is queued.

The command read model wakes a charger's waiters when it comes to hold a queued command for
it: at once on the instance that queued it, and on any other as it hears of the command
through the read models' broadcast; `wake("*")` wakes every waiter (shutdown).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Waiters:
    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
        self.closed = False

    @contextmanager
    def waiting(self, device_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever `device_id` may have a new command, while the block runs."""
        event = asyncio.Event()
        self._events.setdefault(device_id, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._events.get(device_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._events[device_id]

    def wake(self, device_id: str) -> None:
        if device_id == "*":
            for waiting in self._events.values():
                for event in waiting:
                    event.set()
            return
        for event in self._events.get(device_id, ()):
            event.set()

    def close(self) -> None:
        """Shutting down: every long-poll returns now, empty."""
        self.closed = True
        self.wake("*")

    def __len__(self) -> int:
        return sum(len(waiting) for waiting in self._events.values())
