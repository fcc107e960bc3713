"""The vault's contract, run against every store: SQLite (default), PostgreSQL and Redis.
Sealed at rest (a byte search of what the backend holds), key-encryption keys rotated with old
entries still opening, fencing, the cross-instance lock, single-flight refreshes, and a refused
grant kept as `needs_reauth`."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from tests.fixtures.live import free_port
from tests.fixtures.services import PG_ADMIN_URL, REDIS_URL, unavailable
from voltgate.sdk.vault import (
    AppCredentials,
    AsyncApiClient,
    GrantKey,
    GrantRejected,
    LocalKeyFile,
    LockTimeout,
    NoGrant,
    ReauthorizationRequired,
    StaleFence,
    Store,
    TokenEndpointError,
    Tokens,
    TokenVault,
    UnknownKey,
)
from voltgate.sdk.vault.postgres import PostgresStore
from voltgate.sdk.vault.records import open_record
from voltgate.sdk.vault.redis import RedisStore
from voltgate.sdk.vault.sqlite import SQLiteStore

KEY = GrantKey("tesla", "vgc_app", "user-1")


class Backend:
    """Makes stores on one backend (each like another process's) and reads its raw bytes."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name, self.tmp = name, tmp
        self.stores: list[Store] = []
        self.database = f"voltgate_sdk_{secrets.token_hex(5)}"
        self.namespace = f"vgsdk-test-{secrets.token_hex(5)}"

    async def setup(self) -> None:
        if self.name == "postgres":
            import asyncpg

            try:
                admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
            except Exception as exc:
                unavailable("PostgreSQL", exc)
            await admin.execute(f"CREATE DATABASE {self.database}")
            await admin.close()
        if self.name == "redis":
            try:
                probe = RedisStore.connect(REDIS_URL, self.namespace)
                await probe._redis.ping()
                await probe.close()
            except Exception as exc:
                unavailable("Redis", exc)

    @property
    def dsn(self) -> str:
        return PG_ADMIN_URL.rpartition("/")[0] + "/" + self.database

    async def store(self) -> Store:
        made: Store
        if self.name == "sqlite":
            made = SQLiteStore(self.tmp / "vault.db")
        elif self.name == "postgres":
            made = await PostgresStore.connect(self.dsn)
        else:
            made = RedisStore.connect(REDIS_URL, self.namespace)
        self.stores.append(made)
        return made

    async def raw(self) -> bytes:
        """Everything the backend holds for the vault, as bytes."""
        if self.name == "sqlite":
            return b"".join(p.read_bytes() for p in self.tmp.iterdir() if p.is_file())
        if self.name == "postgres":
            import asyncpg

            conn = await asyncpg.connect(self.dsn)
            try:
                rows = await conn.fetch("SELECT t::text FROM voltgate_sdk_grants t")
                # The table's rows as text (bytea as hex), and their storage as bytes.
                heap = await conn.fetch(
                    "SELECT wrapped_key || sealed AS b FROM voltgate_sdk_grants"
                )
            finally:
                await conn.close()
            return b"".join(r[0].encode() for r in rows) + b"".join(bytes(r[0]) for r in heap)
        from redis.asyncio import Redis

        client = Redis.from_url(REDIS_URL)
        try:
            keys = [k async for k in client.scan_iter(f"{self.namespace}:*")]
            dumps = [await client.dump(k) or b"" for k in keys]
        finally:
            await client.aclose()
        return b"".join(keys) + b"".join(dumps)

    async def teardown(self) -> None:
        for store in self.stores:
            await store.close()
        if self.name == "postgres":
            import asyncpg

            admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
            await admin.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            await admin.close()
        if self.name == "redis":
            from redis.asyncio import Redis

            client = Redis.from_url(REDIS_URL)
            keys = [k async for k in client.scan_iter(f"{self.namespace}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.services),
        pytest.param("redis", marks=pytest.mark.services),
    ]
)
async def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made = Backend(request.param, tmp_path)
    await made.setup()
    try:
        yield made
    finally:
        await made.teardown()


def _tokens(n: int, now: float, ttl: float = 60) -> Tokens:
    access, refresh = f"vgat_a{n}_{secrets.token_hex(8)}", f"vgrt_r{n}_{secrets.token_hex(8)}"
    return Tokens(access, refresh, now + ttl, "openid")


class Platform:
    """A token endpoint in one dict: each refresh token works once (as Tesla's), and a token
    presented twice is counted (what the single-flight lock must prevent)."""

    def __init__(self, now: list[float] | None = None) -> None:
        self.now = now or [0.0]
        self.live: set[str] = set()
        self.presented: list[str] = []
        self.n = 0

    def issue(self, now: float, ttl: float = 60) -> Tokens:
        self.n += 1
        tokens = _tokens(self.n, now, ttl)
        assert tokens.refresh_token is not None
        self.live.add(tokens.refresh_token)
        return tokens

    async def refresh(self, current: Tokens | None, cid: str) -> Tokens:
        assert current is not None and current.refresh_token is not None
        self.presented.append(current.refresh_token)
        await asyncio.sleep(0.01)  # the round trip, during which others queue
        if current.refresh_token not in self.live:
            raise GrantRejected(400, "invalid_grant", "refresh token already used")
        self.live.discard(current.refresh_token)
        return self.issue(self.now[0])


async def test_tokens_are_sealed_at_rest_and_keys_rotate(
    store_backend: Backend, tmp_path: Path
) -> None:
    keys = LocalKeyFile(tmp_path / "keys.json")
    vault = TokenVault(await store_backend.store(), keys)
    other = GrantKey("evenergy", "vgc_app", "user-2")
    first, second = _tokens(1, 1e12), _tokens(2, 1e12)
    await vault.put(KEY, first)
    old_kek = keys.current_key_id()
    await vault.put(other, second)

    # A new key-encryption key: old entries still open, new ones are wrapped under it.
    new_kek = keys.rotate()
    assert new_kek != old_kek
    third = _tokens(3, 1e12)
    await vault.put(KEY, third)
    assert (await vault.status(KEY)).key_id == new_kek
    assert (await vault.status(other)).key_id == old_kek
    assert open_record(await vault.store.load(other) or _none(), keys) == second

    # Rewrapped under the new key, the old key can go; everything still opens.
    assert await vault.rewrap() == 1
    keys.retire(old_kek)
    assert open_record(await vault.store.load(other) or _none(), keys) == second
    assert open_record(await vault.store.load(KEY) or _none(), keys) == third

    # Another process's view of the key file sees the rotation; a stranger's keys open nothing.
    assert open_record(await vault.store.load(KEY) or _none(), LocalKeyFile(keys.path)) == third
    with pytest.raises(UnknownKey):
        open_record(await vault.store.load(KEY) or _none(), LocalKeyFile(tmp_path / "k2.json"))

    held = await store_backend.raw() + keys.path.read_bytes()
    assert held, "nothing read back from the backend"
    for tokens in (first, second, third):
        for value in (tokens.access_token, tokens.refresh_token or ""):
            assert value.encode() not in held
            assert value.encode().hex().encode() not in held  # nor as bytea hex
    await vault.close()


async def test_a_write_under_a_lock_a_newer_holder_took_is_refused(
    store_backend: Backend, tmp_path: Path
) -> None:
    keys = LocalKeyFile(tmp_path / "keys.json")
    a, b = await store_backend.store(), await store_backend.store()
    vault = TokenVault(a, keys)
    await vault.put(KEY, _tokens(1, 1e12))
    async with a.lock(KEY) as older:
        pass
    async with b.lock(KEY) as newer:
        assert newer > older
        record = await b.load(KEY)
        assert record is not None
        await b.save(record.with_(fence=newer))
    with pytest.raises(StaleFence):
        await a.save(record.with_(fence=older - 1))


async def test_the_lock_excludes_another_instance_until_released(
    store_backend: Backend,
) -> None:
    a, b = await store_backend.store(), await store_backend.store()
    async with a.lock(KEY):
        with pytest.raises(LockTimeout):
            async with b.lock(KEY, timeout=0.2):
                pass
        async with b.lock(GrantKey("tesla", "vgc_app", "someone-else"), timeout=0.2):
            pass  # another grant's lock is another lock
    async with b.lock(KEY, timeout=1):
        pass


async def test_refreshes_are_single_flight_across_instances_and_coroutines(
    store_backend: Backend, tmp_path: Path
) -> None:
    """Four vaults (as four processes would have, each its own store) and 20 coroutines each
    need a refresh of one grant at once, five times over: each refresh token is presented once."""
    now = [1000.0]
    platform = Platform(now)
    keys = LocalKeyFile(tmp_path / "keys.json")
    vaults = [
        TokenVault(await store_backend.store(), keys, margin=10, clock=lambda: now[0])
        for _ in range(4)
    ]
    await vaults[0].put(KEY, platform.issue(now[0]))
    for _ in range(5):
        now[0] += 55  # inside the margin of every vault's token
        got = await asyncio.gather(
            *(v.tokens(KEY, platform.refresh) for v in vaults for _ in range(20))
        )
        assert len({t.access_token for t in got}) == 1
    assert len(platform.presented) == len(set(platform.presented)) == 5
    assert sum(v.refreshes for v in vaults) == 5


async def test_a_refused_grant_is_kept_for_reauthorisation(
    store_backend: Backend, tmp_path: Path
) -> None:
    platform = Platform()
    vault = TokenVault(await store_backend.store(), LocalKeyFile(tmp_path / "keys.json"),
                       margin=10, clock=lambda: 1e9)  # fmt: skip
    await vault.put(KEY, platform.issue(0))
    platform.live.clear()  # revoked at the platform
    with pytest.raises(ReauthorizationRequired) as refused:
        await vault.tokens(KEY, platform.refresh)
    assert refused.value.key == KEY and refused.value.reason == "invalid_grant"
    status = await vault.status(KEY)
    assert status.needs_reauth and status.failures == 1
    with pytest.raises(ReauthorizationRequired):
        await vault.tokens(KEY, platform.refresh)
    assert len(platform.presented) == 1  # the dead grant is not presented again
    await vault.put(KEY, platform.issue(1e9))  # the user signed in again
    assert not (await vault.status(KEY)).needs_reauth
    await vault.tokens(KEY, platform.refresh)


def _none() -> NoReturn:
    raise AssertionError("no record stored")


@pytest.mark.parametrize("store_backend", ["sqlite"], indirect=True)
async def test_logs_carry_correlation_ids_and_never_a_token(
    store_backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    now = [1000.0]
    platform = Platform(now)
    vault = TokenVault(await store_backend.store(), LocalKeyFile(tmp_path / "keys.json"),
                       margin=10, clock=lambda: now[0])  # fmt: skip
    first = platform.issue(now[0])
    await vault.put(KEY, first)
    now[0] += 55
    second = await vault.tokens(KEY, platform.refresh)  # refreshed, logged

    async def broken(current: Tokens | None, cid: str) -> Tokens:
        raise ConnectionError(f"reset while sending {current!r}")

    now[0] += 55
    with pytest.raises(ConnectionError):
        await vault.tokens(KEY, broken)  # failed, logged
    platform.live.clear()
    with pytest.raises(ReauthorizationRequired):
        await vault.tokens(KEY, platform.refresh)  # refused, logged
    assert (await vault.status(KEY)).failures == 2

    text = caplog.text + repr(first) + repr(second)
    for tokens in (first, second):
        for value in (tokens.access_token, tokens.refresh_token or ""):
            assert value not in text
    ids = [getattr(r, "correlation_id", None) for r in caplog.records]
    assert sum(1 for i in ids if i and i.startswith("vgsdk-")) == 3
    assert "refreshed" in caplog.text
    assert f"refreshing {KEY.label()} failed (ConnectionError)" in caplog.text
    assert "grant refused (invalid_grant)" in caplog.text


async def test_a_failed_refresh_is_said_in_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What a user reads in the log when a refresh cannot happen: what is missing or who said
    no, for which grant, and what to do; never the exception's bare class name or a token."""
    caplog.set_level(logging.INFO, logger="voltgate.sdk.vault")
    vault = TokenVault(path=tmp_path / "vault.db", margin=10)
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = AsyncApiClient("voltgate", vault, AppCredentials("vgc_app", "s3cret"), "owner",
                            base_url=down)  # fmt: skip
    try:
        with pytest.raises(NoGrant) as nothing:
            await client.access_token()
        said = "no stored grant for voltgate/vgc_app/owner: sign in again"
        assert str(nothing.value) == said and said in caplog.text
        await vault.put(client.key, Tokens("at-without-refresh", None, time.time() - 1))
        with pytest.raises(NoGrant, match="no refresh token in the stored grant for voltgate/"):
            await client.access_token()
        await vault.put(client.key, Tokens("at-old", "rt-kept", time.time() - 1))
        with pytest.raises(httpx.ConnectError):
            await client.access_token()
        assert "could not reach the token endpoint for voltgate/vgc_app/owner (ConnectError)" in (
            caplog.text
        )
        assert (await client.status()).failures == 1  # the grant is kept, the failure counted
    finally:
        await client.aclose()
        await vault.close()
    assert "(NoGrant)" not in caplog.text
    for value in ("at-without-refresh", "at-old", "rt-kept", "s3cret"):
        assert value not in caplog.text


@pytest.mark.parametrize("store_backend", [pytest.param("redis", marks=pytest.mark.services)],
                         indirect=True)  # fmt: skip
async def test_a_redis_lock_held_past_its_lease_is_renewed(
    store_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voltgate.sdk.vault import redis as redis_store

    monkeypatch.setattr(redis_store, "LEASE_MS", 300)
    a, b = await store_backend.store(), await store_backend.store()
    async with a.lock(KEY):
        await asyncio.sleep(0.9)  # three leases: still held, because renewed
        with pytest.raises(LockTimeout):
            async with b.lock(KEY, timeout=0.2):
                pass
    async with b.lock(KEY, timeout=1):
        pass


async def test_a_refused_app_token_is_said_as_the_app_s_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A client-credentials request refused with no grant stored: the log names the app's own
    token and the platform's error, not a user's grant "kept"; never the secret."""
    import dataclasses

    from voltgate.sdk.profiles import load_profile

    caplog.set_level(logging.INFO, logger="voltgate.sdk.vault")

    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": "unauthorized_client", "error_description": "no client_credentials"}
        return httpx.Response(400, json=body)

    profile = dataclasses.replace(load_profile("voltgate"), refresh="credentials")
    vault = TokenVault(path=tmp_path / "vault.db", margin=10)
    client = AsyncApiClient(profile, vault, AppCredentials("vgc_app", "s3cret"),
                            base_url="http://127.0.0.1:9",
                            transport=httpx.MockTransport(refuse))  # fmt: skip
    try:
        with pytest.raises(TokenEndpointError):
            await client.access_token()
    finally:
        await client.aclose()
        await vault.close()
    assert "refused the app's own token for voltgate/vgc_app/-" in caplog.text
    assert "HTTP 400: unauthorized_client no client_credentials" in caplog.text
    assert "the grant is kept" not in caplog.text and "s3cret" not in caplog.text
