"""One process of the shared-grant tests: `coroutines` coroutines read the Tesla dialect with
one user's grant from a vault shared with other processes, each at least once and then until
`until` (Unix time), and print what they saw as JSON. Imports nothing but the SDK.

`--die-after-exchange`: the process SIGKILLs itself the moment a refresh's answer arrives,
before the vault can store it (a crash in the middle of a refresh)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx

from voltgate.sdk.vault import AppCredentials, AsyncApiClient, ReauthorizationRequired, TokenVault
from voltgate.sdk.vault.keys import LocalKeyFile
from voltgate.sdk.vault.store import Store


class DieAfterExchange(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/token"):
            os.kill(os.getpid(), signal.SIGKILL)
        return response


async def store_of(spec: str, path: Path) -> Store:
    kind, _, where = spec.partition("=")
    if kind == "postgres":
        from voltgate.sdk.vault.postgres import PostgresStore

        return await PostgresStore.connect(where)
    if kind == "redis":
        from voltgate.sdk.vault.redis import RedisStore

        namespace, _, url = where.partition("@")
        return RedisStore.connect(url, namespace)
    from voltgate.sdk.vault.sqlite import SQLiteStore

    return SQLiteStore(path)


async def main(opts: argparse.Namespace) -> None:
    path = Path(opts.vault)
    keys = LocalKeyFile(Path(opts.vault + ".keys.json"))
    vault = TokenVault(await store_of(opts.store, path), keys, margin=opts.margin)
    transport = DieAfterExchange() if opts.die_after_exchange else None
    http = httpx.AsyncClient(timeout=30, transport=transport,
                             limits=httpx.Limits(max_connections=opts.coroutines))  # fmt: skip
    client = AsyncApiClient("tesla", vault, AppCredentials(opts.client_id, opts.secret),
                            opts.user, base_url=opts.base, http=http)  # fmt: skip
    seen: Counter[str] = Counter()

    async def reader() -> None:
        # At least one request, however late this process started (a loaded machine can take
        # longer to start it than a test's whole window), then until `until`.
        while True:
            try:
                response = await client.request("GET", "/api/1/users/me")
                seen[str(response.status_code)] += 1
            except ReauthorizationRequired:
                seen["reauth"] += 1
                return
            except Exception as failed:  # counted and reported: the test fails on it
                seen[type(failed).__name__] += 1
            if time.time() >= opts.until:
                return

    await asyncio.gather(*(reader() for _ in range(opts.coroutines)))
    await http.aclose()
    await vault.close()
    print(json.dumps({"seen": seen, "refreshes": vault.refreshes}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("--vault", "--store", "--base", "--client-id", "--secret", "--user"):
        parser.add_argument(name, required=True)
    parser.add_argument("--coroutines", type=int, default=1)
    parser.add_argument("--until", type=float, required=True)
    parser.add_argument("--margin", type=float, default=58.5)
    parser.add_argument("--die-after-exchange", action="store_true")
    asyncio.run(main(parser.parse_args()))
