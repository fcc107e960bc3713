"""What a simulated fleet counts: every call that succeeded, every one that did not (a non-2xx
answer or an exception), and each command's path through the charger."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class Stats:
    ok: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    recent_errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    readings: int = 0  # telemetry readings the server accepted (one per connector and post)
    commands: Counter[str] = field(default_factory=Counter)  # "start:accepted", …
    # command id -> time.monotonic() when its charger received it (long-poll or heartbeat)
    received: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    # calls on their way: a number per call -> (its name, time.monotonic() when it began)
    in_flight: dict[int, tuple[str, float]] = field(default_factory=dict)
    _calls: int = field(default=0, init=False, repr=False)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def failed(self, call: str, error: BaseException) -> None:
        self.errors[call] += 1
        self.recent_errors.append(f"{call}: {type(error).__name__}: {error}"[:300])

    def began(self, call: str) -> int:
        self._calls += 1
        self.in_flight[self._calls] = (call, time.monotonic())
        return self._calls

    def ended(self, number: int) -> None:
        self.in_flight.pop(number, None)

    def waiting(self) -> dict[str, tuple[int, float]]:
        """Per call: how many are on their way and the longest wait so far, in seconds."""
        now, found = time.monotonic(), dict[str, tuple[int, float]]()
        for call, began in self.in_flight.values():
            count, longest = found.get(call, (0, 0.0))
            found[call] = (count + 1, max(longest, round(now - began, 1)))
        return found

    def summary(self) -> str:
        elapsed = time.monotonic() - self.started
        calls = ", ".join(f"{k} {v}" for k, v in sorted(self.ok.items()))
        handled = ", ".join(f"{k} {v}" for k, v in sorted(self.commands.items())) or "none"
        return (
            f"{elapsed:.0f} s: ok [{calls}]; errors {self.error_count}"
            + (f" {dict(self.errors)}" if self.errors else "")
            + f"; commands [{handled}]"
            + f"; on their way (count, longest s) {self.waiting()}"
        )
