"""Pulse's own SQLite file: the streamed samples it plots, energy per day, its alerts and the
commands it sent. One writer (pulse's event loop); each call is short, so stdlib sqlite3."""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from voltgate.sdk.vault.keys import KeyProvider, LocalKeyFile

_SECRET_CONTEXT = b"voltgate pulse webhook secret"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (vin TEXT, at REAL, key TEXT, value REAL);
CREATE INDEX IF NOT EXISTS samples_key_at ON samples (key, at);
CREATE TABLE IF NOT EXISTS energy (day TEXT, vin TEXT, kwh REAL, PRIMARY KEY (day, vin));
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY, at REAL, vin TEXT, kind TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS webhook (id TEXT PRIMARY KEY, secret TEXT);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS actions (
  id INTEGER PRIMARY KEY, at REAL, vin TEXT, command TEXT, body TEXT, outcome TEXT);
"""


@dataclass(frozen=True, slots=True)
class Alert:
    at: float
    vin: str
    kind: str  # idle_drain | stopped_early | efficiency | reminder | low_battery
    message: str


@dataclass(frozen=True, slots=True)
class Action:
    at: float
    vin: str
    command: str
    body: str
    outcome: str


class PulseStore:
    def __init__(self, path: Path, keys: KeyProvider | None = None) -> None:
        # The webhook's signing secret is stored sealed under this key (pulse passes its vault's).
        self._keys = keys or LocalKeyFile(path.with_name(path.name + ".keys.json"))
        path.touch(mode=0o600)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def webhook(self) -> tuple[str, str] | None:
        """The endpoint voltgate delivers pulse's alerts to, and its signing secret (stored
        sealed with AES-GCM under the key provider's key, never in plain form)."""
        row = self._db.execute("SELECT id, secret FROM webhook").fetchone()
        if row is None:
            return None
        key_id, _, sealed = str(row[1]).rpartition(":")
        secret = self._keys.unwrap(key_id, base64.b64decode(sealed), _SECRET_CONTEXT)
        return str(row[0]), secret.decode()

    def save_webhook(self, endpoint: str, secret: str) -> None:
        key_id, sealed = self._keys.wrap(secret.encode(), _SECRET_CONTEXT)
        stored = f"{key_id}:{base64.b64encode(sealed).decode()}"
        self._db.execute("DELETE FROM webhook")
        self._db.execute("INSERT INTO webhook VALUES (?, ?)", (endpoint, stored))

    def first_delivery(self, delivery: str) -> bool:
        """Whether this delivery id is new (a retried delivery takes effect once)."""
        done = self._db.execute("INSERT OR IGNORE INTO deliveries VALUES (?)", (delivery,))
        return done.rowcount == 1

    def sample(self, vin: str, at: float, key: str, value: float) -> None:
        self._db.execute("INSERT INTO samples VALUES (?, ?, ?, ?)", (vin, at, key, value))

    def series(self, key: str, since: float) -> list[tuple[str, float, float]]:
        rows = self._db.execute(
            "SELECT vin, at, value FROM samples WHERE key = ? AND at >= ? ORDER BY at",
            (key, since),
        )
        return [(str(v), float(a), float(x)) for v, a, x in rows]

    def add_energy(self, day: str, vin: str, kwh: float) -> None:
        self._db.execute(
            "INSERT INTO energy VALUES (?, ?, ?) ON CONFLICT (day, vin) "
            "DO UPDATE SET kwh = kwh + excluded.kwh",
            (day, vin, kwh),
        )

    def energy(self, since_day: str) -> list[tuple[str, float]]:
        rows = self._db.execute(
            "SELECT day, SUM(kwh) FROM energy WHERE day >= ? GROUP BY day ORDER BY day",
            (since_day,),
        )
        return [(str(d), float(k)) for d, k in rows]

    def alert(self, alert: Alert) -> None:
        self._db.execute(
            "INSERT INTO alerts (at, vin, kind, message) VALUES (?, ?, ?, ?)",
            (alert.at, alert.vin, alert.kind, alert.message),
        )

    def alerts(self, limit: int = 50) -> list[Alert]:
        rows = self._db.execute(
            "SELECT at, vin, kind, message FROM alerts ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [Alert(float(a), str(v), str(k), str(m)) for a, v, k, m in rows]

    def action(self, action: Action) -> None:
        self._db.execute(
            "INSERT INTO actions (at, vin, command, body, outcome) VALUES (?, ?, ?, ?, ?)",
            (action.at, action.vin, action.command, action.body, action.outcome),
        )

    def actions(self, limit: int = 50) -> list[Action]:
        rows = self._db.execute(
            "SELECT at, vin, command, body, outcome FROM actions ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [Action(float(a), str(v), str(c), str(b), str(o)) for a, v, c, b, o in rows]
