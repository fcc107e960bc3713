"""Where the vault keeps records, and how a refresh is made single-flight across processes.

One Protocol, implemented for SQLite (the default: a file, stdlib `sqlite3`, a file lock),
PostgreSQL (asyncpg, a session advisory lock) and Redis (a lock with a lease). Each acquisition
of a grant's lock takes the next number of a per-grant counter, its fencing token; every write
carries the token of the lock it was made under, and a store refuses a write whose token is
older than the stored one: a holder whose lock lapsed (a Redis TTL, a paused process)
cannot overwrite what a newer holder stored.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from voltgate.sdk.vault.records import GrantKey, Record

LOCK_TIMEOUT = 30.0  # waiting longer than this for a refresh means something is stuck
POLL = 0.005  # how often a waiting process tries a busy lock again (seconds)


class LockTimeout(TimeoutError):
    """The grant's lock stayed taken for longer than the wait allowed."""


class StaleFence(RuntimeError):
    """A write under a lock that a newer holder has since taken: refused."""


class Store(Protocol):
    async def load(self, key: GrantKey) -> Record | None: ...

    async def save(self, record: Record) -> None:
        """Insert or replace; `StaleFence` if the stored record has a newer fence."""
        ...

    def lock(
        self, key: GrantKey, timeout: float = LOCK_TIMEOUT
    ) -> AbstractAsyncContextManager[int]:
        """Exclusive across processes while held; yields this holding's fencing token,
        greater than any token handed out before for this grant."""
        ...

    async def records(self) -> list[Record]: ...

    async def close(self) -> None: ...
