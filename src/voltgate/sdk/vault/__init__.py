"""A token vault and API clients for users' grants: see `vault.py` and docs/sdk.md."""

from voltgate.sdk.vault.client import ApiClient, AsyncApiClient
from voltgate.sdk.vault.exchange import AppCredentials, GrantRejected, TokenEndpointError
from voltgate.sdk.vault.keys import KeyProvider, LocalKeyFile, UnknownKey
from voltgate.sdk.vault.records import GrantKey, Tokens
from voltgate.sdk.vault.signin import SignIn, SignInError
from voltgate.sdk.vault.sqlite import SQLiteStore
from voltgate.sdk.vault.store import LockTimeout, StaleFence, Store
from voltgate.sdk.vault.vault import (
    GrantStatus,
    NoGrant,
    ReauthorizationRequired,
    TokenVault,
)

__all__ = [
    "ApiClient", "AppCredentials", "AsyncApiClient", "GrantKey", "GrantRejected", "GrantStatus",
    "KeyProvider", "LocalKeyFile", "LockTimeout", "NoGrant", "ReauthorizationRequired",
    "SQLiteStore", "SignIn", "SignInError", "StaleFence", "Store", "TokenEndpointError",
    "TokenVault", "Tokens", "UnknownKey",
]  # fmt: skip
