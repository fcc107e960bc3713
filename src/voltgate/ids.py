"""Identifiers: prefixed time-ordered ids (ULID layout) and cheap unique tokens for the hot path."""

from __future__ import annotations

import base64
import os
import random
import secrets
import threading
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Seeded from the OS once; used where an identifier must be unique, not secret (request ids,
# `jti`): a getrandom() syscall per request measured ~14 µs under load on the 2-core machine.
# Resource ids (ULIDs) come from it too: they name things, they grant nothing. Reseeded in a
# forked worker, so two workers never draw the same sequence.
_fast = random.Random(secrets.token_bytes(32))  # noqa: S311 - uniqueness, not secrecy
os.register_at_fork(after_in_child=lambda: _fast.seed(secrets.token_bytes(32)))


# Every pair of characters, by the 10 bits it stands for: a ULID is 13 look-ups.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))


_last = 0  # the last ULID made in this process, as a number
_order = threading.Lock()


def _forked() -> None:
    # A worker orders its own ids from its own draws: two children going on from the
    # parent's last id would make the same one.
    global _last, _order
    _last, _order = 0, threading.Lock()


os.register_at_fork(after_in_child=_forked)


def ulid() -> str:
    """48 bits of milliseconds then 80 random bits, as 26 Crockford base32 characters.

    Monotonic within a process (the ULID spec's monotonic mode): an id that would not sort
    after the one before (made in the same millisecond, or the clock stepped back) is that one
    plus one, so ids sort in the order they were made and lists "newest first" by id are."""
    global _last
    value = (int(time.time() * 1000) << 80) | _fast.getrandbits(80)
    with _order:
        if value <= _last:
            value = _last + 1
        _last = value
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def new_id(prefix: str) -> str:
    return f"{prefix}{ulid()}"


def ulid_at(at: float, randomness: int) -> str:
    """A ULID for a moment in the past (a seeded history): `at`'s milliseconds, then the low 80
    bits of `randomness`, drawn by the caller so that a seeded history is reproducible. It sorts
    among the ids made at that time, before every id `ulid()` makes later."""
    value = (int(at * 1000) << 80) | (randomness & ((1 << 80) - 1))
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def unique_hex(nbytes: int = 12) -> str:
    return f"{_fast.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def unique_token(nbytes: int = 16) -> str:
    return base64.urlsafe_b64encode(_fast.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()[
        : (nbytes * 4 + 2) // 3
    ]
