"""What every resolver gets as `info.context`: who asks, and the request's address and id."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLResolveInfo

from voltgate.dialects.beenergised.caller import Caller
from voltgate.identity.requests import OAuthRequest


@dataclass(frozen=True, slots=True)
class Context:
    caller: Caller
    request: OAuthRequest  # address and request id, for sign-in limits and audit rows

    @property
    def user_id(self) -> str:
        """The signed-in contact (every field but the PSK's and refreshSession's has one)."""
        user_id = self.caller.user_id
        assert user_id is not None, "admitted without a contact"
        return user_id


Info = GraphQLResolveInfo[Context]
