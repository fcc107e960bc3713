"""Anti-replay counters, one per (client key, domain) within an epoch (protocol.md, "Metadata":
"Infotainment tracks a sliding window of valid counters to allow for out-of-order message
arrival, while VCSEC requires that messages arrive in counter order")."""

from __future__ import annotations

from dataclasses import dataclass

WINDOW = 32  # how far below the highest counter infotainment still accepts an unused one
_MASK = (1 << WINDOW) - 1


@dataclass(frozen=True, slots=True)
class Counter:
    """The highest counter accepted, and which of the WINDOW below it were used (bit i set:
    `highest - 1 - i` was used)."""

    highest: int = 0
    window: int = 0


def sliding(current: Counter, new: int) -> Counter | None:
    """Infotainment: the counter after accepting `new`, or None for a counter used before or
    too far below the highest to tell."""
    if new == current.highest:
        return None
    if new < current.highest:
        age = current.highest - new
        if age > WINDOW or current.window >> (age - 1) & 1:
            return None
        return Counter(current.highest, current.window | 1 << (age - 1))
    shift = new - current.highest
    window = (current.window << shift | 1 << (shift - 1)) & _MASK if shift <= WINDOW else 0
    return Counter(new, window)


def in_order(current: Counter, new: int) -> Counter | None:
    """VCSEC: only a counter above every one accepted."""
    return Counter(new) if new > current.highest else None
