"""The framework-free request the protocol core works on."""

from __future__ import annotations

from dataclasses import dataclass, field

from voltgate.identity.profiles import CORE, Profile


@dataclass(slots=True)
class OAuthRequest:
    params: dict[str, str]
    authorization: str | None = None
    address: str | None = None
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    profile: Profile = CORE  # the rules of the path it came to

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None
