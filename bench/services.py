"""The backing services of the scale path: a fresh PostgreSQL database and a Redis namespace.

Both run on 127.0.0.1 (PostgreSQL on 5432 as user `postgres`, Redis on 6379, database 0), as
the test suite expects them. The bench creates a database of its own per server start and
drops it afterwards, and gives each server start a Redis key namespace of its own, whose keys it
deletes afterwards; nothing else in either service is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import proctree

LOOPBACK = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
REDIS_URL = f"redis://{LOOPBACK}:6379/0"
# Bounds on every call into a service, so a hung service cannot hang the bench.
_CONNECT_TIMEOUT_S = 5
_COMMAND_TIMEOUT_S = 60.0


class ServiceUnavailable(RuntimeError):
    """PostgreSQL or Redis cannot be reached: the server that needs it is skipped."""


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def psql(sql: str, database: str = "postgres") -> str:
    """Run one statement with psql (as PG_USER on 127.0.0.1) and return its unaligned output."""
    exe = shutil.which("psql")
    if exe is None:
        raise ServiceUnavailable("psql (the PostgreSQL client) is not installed")
    command = [
        exe,
        "-X",
        "-q",
        "-t",
        "-A",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        LOOPBACK,
        "-p",
        str(PG_PORT),
        "-U",
        PG_USER,
        "-d",
        database,
        "-c",
        sql,
    ]
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(_CONNECT_TIMEOUT_S)}
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE"):
        env.pop(key, None)
    return run_step(command, timeout=_COMMAND_TIMEOUT_S, env=env).strip()


@dataclass(frozen=True)
class PostgresDatabase:
    name: str

    @property
    def url(self) -> str:
        """The SQLAlchemy URL voltgate reads from VOLTGATE_DATABASE_URL."""
        return f"postgresql+asyncpg://{PG_USER}@{LOOPBACK}:{PG_PORT}/{self.name}"

    def count(self, table: str, column: str, value: str) -> int:
        """`SELECT count(*) FROM table WHERE column = 'value'` (plain identifiers and values)."""
        sql = (
            f"SELECT count(*) FROM {_identifier(table)} "
            f"WHERE {_identifier(column)} = '{_identifier(value)}'"
        )
        return int(psql(sql, self.name))

    def count_not_null(self, table: str, column: str) -> int:
        """`SELECT count(*) FROM table WHERE column IS NOT NULL` (plain identifiers)."""
        sql = f"SELECT count(*) FROM {_identifier(table)} WHERE {_identifier(column)} IS NOT NULL"
        return int(psql(sql, self.name))

    def backend_pids(self) -> list[int]:
        """The server processes of the connections to this database (visible on this machine)."""
        marker = f" {self.name} "
        return proctree.matching(lambda cmd: cmd.startswith("postgres: ") and marker in cmd)


@contextlib.contextmanager
def fresh_database() -> Iterator[PostgresDatabase]:
    """CREATE DATABASE voltgate_bench_<random>; DROP … WITH (FORCE) on the way out, always."""
    db = PostgresDatabase(f"voltgate_bench_{secrets.token_hex(5)}")
    try:
        psql(f"CREATE DATABASE {db.name}")
    except ServiceUnavailable as exc:
        raise ServiceUnavailable(
            f"PostgreSQL on {LOOPBACK}:{PG_PORT} (user {PG_USER}): {exc}"
        ) from exc
    try:
        yield db
    finally:
        try:
            psql(f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")
        except ServiceUnavailable as exc:
            print(f"bench: could not drop database {db.name}: {exc}", file=sys.stderr)


@contextlib.contextmanager
def redis_namespace() -> Iterator[str]:
    """A fresh `VOLTGATE_REDIS_NAMESPACE` (bench-<random>); its keys are deleted afterwards."""
    import redis

    namespace = f"bench-{secrets.token_hex(5)}"
    client = redis.Redis.from_url(
        REDIS_URL, socket_timeout=_CONNECT_TIMEOUT_S, socket_connect_timeout=_CONNECT_TIMEOUT_S
    )
    try:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"Redis at {REDIS_URL}: {exc}") from exc
        try:
            yield namespace
        finally:
            try:
                # voltgate prefixes every key of a namespace with `voltgate:<namespace>:`.
                for key in client.scan_iter(match=f"voltgate:{namespace}:*", count=1000):
                    client.unlink(key)
            except redis.RedisError as exc:
                print(f"bench: could not delete Redis keys of {namespace}: {exc}", file=sys.stderr)
    finally:
        client.close()


def redis_pids() -> list[int]:
    """redis-server processes visible on this machine (shared with whatever else uses Redis)."""
    return proctree.matching(lambda cmd: cmd.split(" ", 1)[0].endswith("redis-server"))


def versions() -> list[tuple[str, str]]:
    """PostgreSQL and Redis server versions, for the machine description."""
    rows = []
    with contextlib.suppress(ServiceUnavailable, ValueError):
        rows.append(("PostgreSQL", psql("SHOW server_version").split()[0]))
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=_CONNECT_TIMEOUT_S)
        try:
            info = client.info("server")
        finally:
            client.close()
        rows.append(("Redis", str(info["redis_version"])))
    return rows


def run_step(
    command: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run a set-up step; its stdout, or ServiceUnavailable (the bench skips the peer)."""
    what = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(command))
    try:
        proc = subprocess.run(
            command,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable(f"`{what}` took more than {timeout:g} s") from exc
    if proc.returncode != 0:
        out = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-30:])
        raise ServiceUnavailable(f"`{what}` failed ({proc.returncode}):\n{out}")
    stdout: str = proc.stdout
    return stdout
