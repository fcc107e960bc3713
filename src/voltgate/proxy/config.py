"""The proxy's settings, read once from VOLTGATE_PROXY_* (the `voltgate proxy` command sets them
for its worker processes)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class ProxySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOLTGATE_PROXY_", extra="ignore")

    key_file: Path  # the app's P-256 private key (PEM), the one its public key was made from
    upstream: str  # Fleet API's base URL
    timeout: float = 10.0  # seconds for a command, handshake included
