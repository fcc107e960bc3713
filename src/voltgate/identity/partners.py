"""Partner accounts (Tesla Fleet API): an app registers the domain that hosts its public key at
/.well-known/appspecific/com.tesla.3p.public-key.pem; registering downloads and checks that key
(`keyfetch`) and stores it, and registering again takes the key hosted now (a rotated one).

A domain belongs to one app. voltgate can host an app's key itself (`host`, from `voltgate keys
app generate --client-id`): the app's domain is then voltgate's own (the issuer's host, with
its port in a sandbox) and voltgate serves the key at the well-known path; registering that
domain takes the key voltgate holds, without a download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.appkeys import KeyRefused
from voltgate.identity.keyfetch import is_loopback, key_url

# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, with a TLD.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")


@dataclass(frozen=True, slots=True)
class PartnerAccount:
    client_id: str
    domain: str
    created_at: float
    updated_at: float
    # The hosted key's P-256 point (65 bytes); None for domains registered before keys were read.
    public_key: bytes | None = None


class PartnerStore(Protocol):
    async def upsert(self, account: PartnerAccount) -> PartnerAccount:
        """Conflict (409) when another app holds the domain with a key."""

    async def get(self, client_id: str) -> PartnerAccount | None: ...

    async def by_domain(self, domain: str) -> PartnerAccount | None:
        """The account holding the domain with a key."""


class KeyFetcher(Protocol):
    async def fetch(self, domain: str) -> bytes:
        """The domain's hosted P-256 point, or `KeyRefused` naming what is wrong."""


def normalize_domain(value: str, *, sandbox: bool = False) -> str:
    domain = value.strip().lower().rstrip(".")
    port = domain.rpartition(":")[2]
    if sandbox and is_loopback(domain) and _PORT.match(port) and int(port) <= 65_535:
        return domain
    if len(domain) > 253 or not _DOMAIN.match(domain):
        also = " (in a sandbox also a loopback address with a port: 127.0.0.1:8443)"
        raise ValidationFailed(
            "domain must be a host name such as app.example.com (no scheme, path or port)"
            + (also if sandbox else "")
        )
    return domain


def own_domain(issuer: str) -> str:
    """voltgate's own domain: the issuer's host (and port), where it hosts apps' keys."""
    return urlsplit(issuer).netloc.lower()


class Partners:
    def __init__(
        self,
        store: PartnerStore,
        clock: Clock,
        fetcher: KeyFetcher,
        *,
        sandbox: bool,
        issuer: str,
    ) -> None:
        self._store = store
        self._clock = clock
        self._fetcher = fetcher
        self._sandbox = sandbox
        self.own_domain = own_domain(issuer)

    async def register(self, client_id: str, domain: str) -> PartnerAccount:
        """Download the domain's key, check it and store it as the app's (409 when the domain
        is another app's; 400 naming what is wrong with the key)."""
        normalized = normalize_domain(domain, sandbox=self._sandbox)
        holder = await self._holder(client_id, normalized)
        if normalized == self.own_domain:
            if holder is None or holder.public_key is None:
                raise KeyRefused(
                    f"voltgate hosts no key for this app at {normalized}: on the server, run "
                    f"`voltgate keys app generate --out DIR --client-id {client_id}`"
                )
            point = holder.public_key
        else:
            point = await self._fetcher.fetch(normalized)
        return await self._store_key(client_id, normalized, point)

    def check_domain(self, domain: str) -> str:
        """The domain as `register` takes it; ValidationFailed naming what is wrong with it."""
        return normalize_domain(domain, sandbox=self._sandbox)

    async def host(self, client_id: str, point: bytes) -> PartnerAccount:
        """voltgate hosts this key for the app: its account moves to voltgate's own domain."""
        await self._holder(client_id, self.own_domain)
        return await self._store_key(client_id, self.own_domain, point)

    async def get(self, client_id: str) -> PartnerAccount:
        account = await self._store.get(client_id)
        if account is None:
            raise NotFound("this partner has not registered a domain yet")
        return account

    async def by_domain(self, domain: str) -> PartnerAccount | None:
        """The app whose key the domain hosts (registered with its key), if any."""
        return await self._store.by_domain(domain.strip().lower().rstrip("."))

    async def public_key(self, domain: str) -> bytes:
        account = await self.by_domain(domain)
        if account is None or account.public_key is None:
            raise NotFound(f"no partner has registered a public key for {domain[:253]!r}")
        return account.public_key

    async def hosted(self) -> PartnerAccount | None:
        """The app whose key voltgate serves at its own well-known path."""
        return await self._store.by_domain(self.own_domain)

    async def key_of(self, client_id: str) -> bytes | None:
        """The app's registered public key (its point), if it has one."""
        account = await self._store.get(client_id)
        return None if account is None else account.public_key

    @staticmethod
    def key_url(domain: str) -> str:
        return key_url(domain)

    async def _holder(self, client_id: str, domain: str) -> PartnerAccount | None:
        holder = await self._store.by_domain(domain)
        if holder is not None and holder.client_id != client_id:
            raise Conflict(f"the domain {domain} is registered by another app")
        return holder

    async def _store_key(self, client_id: str, domain: str, point: bytes) -> PartnerAccount:
        now = self._clock.now()
        return await self._store.upsert(PartnerAccount(client_id, domain, now, now, point))
