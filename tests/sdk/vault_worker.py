"""One process of the shared-grant test: `coroutines` coroutines read the Tesla dialect with
one user's grant from a vault shared with other processes, until `until` (Unix time). Prints
what it saw as JSON. Imports nothing but the SDK."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from voltgate.sdk.vault import AppCredentials, AsyncApiClient, ReauthorizationRequired, TokenVault
from voltgate.sdk.vault.keys import LocalKeyFile
from voltgate.sdk.vault.sqlite import SQLiteStore


async def main(argv: list[str]) -> None:
    vault_path, base, client_id, secret, user, coroutines, until, margin = argv
    vault = TokenVault(SQLiteStore(Path(vault_path)),
                       LocalKeyFile(Path(vault_path + ".keys.json")), margin=float(margin))  # fmt: skip
    limits = httpx.Limits(max_connections=int(coroutines))
    http = httpx.AsyncClient(timeout=30, limits=limits)
    client = AsyncApiClient("tesla", vault, AppCredentials(client_id, secret), user,
                            base_url=base, http=http)  # fmt: skip
    seen: Counter[str] = Counter()

    async def reader() -> None:
        while time.time() < float(until):
            try:
                response = await client.request("GET", "/api/1/users/me")
                seen[str(response.status_code)] += 1
            except ReauthorizationRequired:
                seen["reauth"] += 1
                return
            except Exception as failed:  # counted and reported, the test fails on it
                seen[type(failed).__name__] += 1

    await asyncio.gather(*(reader() for _ in range(int(coroutines))))
    await http.aclose()
    print(json.dumps({"seen": seen, "refreshes": vault.refreshes}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
