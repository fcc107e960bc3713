"""Settings: read once from the environment (prefix VOLTGATE_) and passed down explicitly."""

from __future__ import annotations

import base64
import os
import secrets
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"

    @property
    def tag(self) -> str:
        """The short tag carried in credential prefixes: `vgcs_test_…` / `vgcs_live_…`."""
        return "test" if self is Environment.SANDBOX else "live"


class ExternalIdp(BaseModel):
    """An external identity provider (Auth0-style) whose access tokens are accepted as bearer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The tokens' `iss`, compared exactly (Auth0's ends in a slash: https://tenant.auth0.com/).
    issuer: str = Field(min_length=1)
    # Where the issuer publishes its signing keys (Auth0: <issuer>.well-known/jwks.json).
    jwks_url: str
    # The API identifier a token's `aud` must be, or contain when it is a list.
    audience: str = Field(min_length=1)
    # The claim whose value names the user (`sub`, or a namespaced custom claim).
    user_claim: str = Field(default="sub", min_length=1)
    # The claim carrying the user's e-mail address, when the IdP adds one.
    email_claim: str = Field(default="email", min_length=1)
    # Create a user on the first token naming an unknown one (otherwise such a token is refused).
    create_users: bool = False

    @field_validator("jwks_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("jwks_url must be an http(s) URL")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOLTGATE_", extra="ignore")

    environment: Environment = Environment.SANDBOX
    data_dir: Path = Path("./.voltgate")
    database_url: str | None = None
    redis_url: str | None = None
    # Prefix of every Redis key and channel; instances of one deployment share it.
    redis_namespace: str | None = None
    # Public base URL; the issuer of every token. Defaults to the address `serve` binds.
    issuer: str = "http://127.0.0.1:8000"
    audience: str | None = None
    # 32 random bytes, base64url. Derives the secret pepper and the key-encryption key.
    # Required in production; a sandbox generates one in data_dir on first start.
    master_key: str | None = None

    max_body_bytes: int = 64 * 1024
    max_access_token_ttl: int = 86_400
    refresh_token_ttl: int = 90 * 86_400
    # A repeated refresh within this many seconds gets the same successor pair; later, reuse.
    refresh_grace_seconds: float = 30.0
    clock_skew: int = 5
    token_rate_per_client: int = 300
    token_rate_per_address: int = 600
    token_rate_window: int = 60
    # Readings waiting for the next group commit past which ingest answers 429.
    telemetry_max_pending: int = 200_000
    # Raw readings are deleted after this many days, 1-minute rollups (downsampled series) after
    # the second, which must be at least the first.
    telemetry_raw_retention_days: int = Field(default=7, ge=1)
    telemetry_rollup_retention_days: int = Field(default=400, ge=1)
    # How often a server reads the database's change counter: a CLI's write to the same SQLite
    # file is in every read model within this plus one reload (the promise is 1 s).
    change_poll_interval: float = 0.5
    # How often each process adds its apps' usage counts (the portal's charts) to the database.
    usage_flush_interval: float = 5.0
    # Per-app limit on the Tesla /api/1 resource routes: requests per window (seconds).
    api_rate_limit: int = 600
    api_rate_window: int = 60
    # Live streams (Tellus /v1/operator/stream, the vehicle stream): frames one consumer may
    # have waiting to be sent before it is dropped as too slow; seconds between the sources'
    # reads of newly committed rows (a frame goes out within about this); streams one access
    # token may hold open at once.
    stream_buffer_frames: int = Field(default=1024, ge=1, le=1_000_000)
    stream_poll_interval: float = Field(default=0.1, gt=0, le=1.0)
    stream_max_per_token: int = Field(default=5, ge=1)
    # Vehicles: idle this long and a vehicle falls asleep; a wake_up takes this long.
    vehicle_sleep_after: float = 900.0
    vehicle_wake_seconds: float = 10.0
    # be.ENERGISED's GraphQL API: introspection (its API reference is public), and the
    # bounds a document is held to before it runs (dialects/beenergised/documents.py).
    graphql_introspection: bool = True
    # Off: every document is parsed and validated on every request, as graphql-core's own
    # pipeline does, and no answer is kept: what the bench compares the endpoint with.
    graphql_cache: bool = True
    graphql_max_depth: int = Field(default=12, ge=2, le=64)
    graphql_max_cost: int = Field(default=25_000, ge=100)
    graphql_max_aliases: int = Field(default=100, ge=0)
    graphql_max_batch: int = Field(default=10, ge=1, le=100)
    # Alerts: rules per app, and how often their evaluators' changed states are saved (each
    # state is also saved with every alert it fires); an evaluator not fed for idle seconds is
    # saved and dropped from memory.
    alert_max_rules: int = Field(default=100, ge=1)
    alert_state_flush_seconds: float = Field(default=5.0, gt=0)
    alert_state_idle_seconds: float = Field(default=600.0, gt=0)
    # Webhooks: endpoints per app; a delivery is tried at most max_attempts times, waiting
    # backoff_base * 2^(n-1) seconds (at most backoff_max, times a jitter in [0.5, 1)) after
    # the n-th failure, each attempt getting timeout seconds; then it is dead (replayable).
    # Every poll_interval a server looks for due deliveries of other instances; an endpoint is
    # delivered by one instance at a time, under a lease of lease_seconds. A rotated secret
    # keeps signing beside the new one for rotation_overlap seconds unless the request says.
    webhook_max_endpoints: int = Field(default=10, ge=1)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_backoff_base: float = Field(default=2.0, gt=0)
    webhook_backoff_max: float = Field(default=3_600.0, gt=0)
    webhook_timeout: float = Field(default=10.0, gt=0, le=120)
    webhook_poll_interval: float = Field(default=1.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_rotation_overlap: float = Field(default=86_400.0, ge=0, le=7 * 86_400)
    log_level: str = "info"
    # Also serve GET /metrics without a token on 127.0.0.1 at this port (one worker only);
    # /metrics on the API's port always answers a token with `voltgate:admin`.
    metrics_port: int | None = Field(default=None, ge=0, le=65_535)
    # Also append the log (at log_level) to this file; console_log_level, when set, is the
    # console's (stderr's) own level. `voltgate sandbox` sets both.
    log_file: Path | None = None
    console_log_level: str | None = None
    # Connection limits, per worker process. Every open connection holds one of
    # max_connections from accept to close, idle or not (granian's backpressure); when all are
    # held, new connections wait in the kernel's listen queue (listen_backlog, capped by
    # net.core.somaxconn). Each connection is one open file in its worker.
    max_connections: int = Field(default=10_000, ge=1)
    # Seconds a connection gets to send a request's headers, counted from accept or from the
    # previous response: it also closes idle keep-alive connections and sockets that send nothing.
    header_timeout: float = Field(default=10.0, ge=0.001)
    listen_backlog: int = Field(default=1024, ge=128)
    # Where `voltgate sandbox --credentials-out` wrote the sandbox's credentials: the landing
    # page names the file (never its contents).
    credentials_file: Path | None = None
    # External IdPs (be.ENERGISED's "Auth0"): their access tokens are accepted as bearer. One is
    # configured by the EXTERNAL_IDP_* names (issuer, jwks_url and audience together; the other
    # three as in ExternalIdp), more as a JSON list of ExternalIdp objects in EXTERNAL_IDPS; both
    # may be used at once, each issuer at most once. In production a JWKS URL must be https
    # unless it is on the loopback interface.
    external_idp_issuer: str | None = None
    external_idp_jwks_url: str | None = None
    external_idp_audience: str | None = None
    external_idp_user_claim: str = "sub"
    external_idp_email_claim: str = "email"
    external_idp_create_users: bool = False
    external_idps: list[ExternalIdp] = Field(default_factory=list)
    # An issuer's JWKS is fetched again on an unknown `kid` at most once per this many seconds
    # (whether the last fetch worked or not), and on first use after max_age seconds; a fetch
    # gets timeout seconds in all and at most max_bytes of body.
    external_idp_jwks_min_interval: float = Field(default=30.0, ge=0)
    external_idp_jwks_max_age: float = Field(default=3600.0, gt=0)
    external_idp_jwks_timeout: float = Field(default=5.0, gt=0)
    external_idp_jwks_max_bytes: int = Field(default=64 * 1024, ge=1024)
    # Serve GraphiQL, an in-browser IDE for the GraphQL API, at /graphiql (off: 404 there).
    graphiql: bool = True
    # Where the Fleet Telemetry vehicles' CA keeps ca.pem and ca.key (data_dir/telemetry-ca).
    telemetry_ca_dir: Path | None = None
    # Fleet Telemetry's listener (`voltgate telemetry serve`): where it binds, the host name
    # vehicles are configured to reach it by, and per-socket limits (fleet-telemetry's own
    # default: 1,000 messages per 30 s; excess is dropped unacknowledged, so it is resent).
    telemetry_host: str = "127.0.0.1"
    telemetry_port: int = Field(default=4443, ge=0, le=65_535)
    telemetry_hostname: str = "localhost"
    telemetry_rate_messages: int = Field(default=1000, ge=1)
    telemetry_rate_interval: float = Field(default=30.0, gt=0)
    # Messages a vehicle may have waiting for their acknowledgement; beyond, its socket is not
    # read (the queue plus batch writes of the guide: backpressure, not memory).
    telemetry_in_flight: int = Field(default=256, ge=1)
    # Names this listener in connectivity records, so that a restart closes its own.
    telemetry_instance: str | None = None
    # The scale path: set, the listener acknowledges a vehicle's message once NATS JetStream
    # stored it and `voltgate telemetry writer` processes move it into the database; unset,
    # the listener writes to the database itself. The stream's name and subjects' prefix,
    # its limits (age, bytes: past them new messages are refused, so vehicles resend later),
    # the window in which a resend is dropped by its Nats-Msg-Id, the writers' durable
    # consumer, how long a writer may hold messages unacknowledged before they go to another,
    # how many it may hold, how many it takes at once, and how long a publish may take.
    nats_url: str | None = None
    nats_stream: str = Field(default="VOLTGATE_TELEMETRY", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    nats_subject_prefix: str = Field(
        default="voltgate.telemetry", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    nats_max_age: float = Field(default=7 * 86_400.0, gt=0)
    nats_max_bytes: int = Field(default=10 * 1024**3, ge=1024**2)
    nats_duplicate_window: float = Field(default=120.0, gt=0)
    nats_consumer: str = Field(default="writers", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    nats_ack_wait: float = Field(default=30.0, gt=0)
    nats_max_ack_pending: int = Field(default=20_000, ge=1)
    nats_writer_batch: int = Field(default=2048, ge=1, le=100_000)
    nats_publish_timeout: float = Field(default=5.0, gt=0)

    @field_validator("issuer")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _rollups_outlive_raw(self) -> Settings:
        if self.telemetry_rollup_retention_days < self.telemetry_raw_retention_days:
            raise ValueError(
                "telemetry_rollup_retention_days must be at least telemetry_raw_retention_days"
            )
        return self

    @model_validator(mode="after")
    def _external_idps_complete(self) -> Settings:
        issuers = [idp.issuer for idp in self.external_issuers]
        if len(set(issuers)) != len(issuers):
            raise ValueError("each external IdP issuer may be configured only once")
        if self.environment is Environment.PRODUCTION:
            for idp in self.external_issuers:
                parts = urlsplit(idp.jwks_url)
                if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
                    raise ValueError(f"the JWKS URL of {idp.issuer} must be https in production")
        return self

    @property
    def external_issuers(self) -> tuple[ExternalIdp, ...]:
        """Every configured external IdP: the EXTERNAL_IDP_* one first, then EXTERNAL_IDPS."""
        single = (self.external_idp_issuer, self.external_idp_jwks_url, self.external_idp_audience)
        if not any(single):
            return tuple(self.external_idps)
        issuer, jwks_url, audience = single
        if not (issuer and jwks_url and audience):
            raise ValueError(
                "VOLTGATE_EXTERNAL_IDP_ISSUER, _JWKS_URL and _AUDIENCE must be set together"
            )
        first = ExternalIdp(
            issuer=issuer,
            jwks_url=jwks_url,
            audience=audience,
            user_claim=self.external_idp_user_claim,
            email_claim=self.external_idp_email_claim,
            create_users=self.external_idp_create_users,
        )
        return (first, *self.external_idps)

    @property
    def token_audience(self) -> str:
        return self.audience or f"{self.issuer}/api"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'voltgate.db').resolve()}"

    @property
    def resolved_telemetry_ca_dir(self) -> Path:
        return self.telemetry_ca_dir or self.data_dir / "telemetry-ca"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def master_key_bytes(self) -> bytes:
        """The master key, generating and persisting one for a sandbox on first use."""
        if self.master_key:
            return _decode_key(self.master_key)
        if self.environment is Environment.PRODUCTION:
            raise RuntimeError("VOLTGATE_MASTER_KEY is required in production")
        path = self.data_dir / "master.key"
        if path.exists():
            return _decode_key(path.read_text().strip())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(encoded + "\n")
        return _decode_key(encoded)


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _decode_key(encoded: str) -> bytes:
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(raw) != 32:
        raise RuntimeError("VOLTGATE_MASTER_KEY must be 32 bytes, base64url-encoded")
    return raw


__all__ = ["Environment", "ExternalIdp", "Settings"]
