"""Partner accounts (Tesla Fleet API): a partner app registers the domain that will host its
public key at /.well-known/appspecific/com.tesla.3p.public-key.pem (the key part comes later)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from voltgate.clock import Clock
from voltgate.errors import NotFound, ValidationFailed

# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, with a TLD.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$")


@dataclass(frozen=True, slots=True)
class PartnerAccount:
    client_id: str
    domain: str
    created_at: float
    updated_at: float


class PartnerStore(Protocol):
    async def upsert(self, account: PartnerAccount) -> PartnerAccount: ...

    async def get(self, client_id: str) -> PartnerAccount | None: ...


def normalize_domain(value: str) -> str:
    domain = value.strip().lower().rstrip(".")
    if len(domain) > 253 or not _DOMAIN.match(domain):
        raise ValidationFailed(
            "domain must be a host name such as app.example.com (no scheme, path or port)"
        )
    return domain


class Partners:
    def __init__(self, store: PartnerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def register(self, client_id: str, domain: str) -> PartnerAccount:
        now = self._clock.now()
        return await self._store.upsert(
            PartnerAccount(client_id, normalize_domain(domain), now, now)
        )

    async def get(self, client_id: str) -> PartnerAccount:
        account = await self._store.get(client_id)
        if account is None:
            raise NotFound("this partner has not registered a domain yet")
        return account
