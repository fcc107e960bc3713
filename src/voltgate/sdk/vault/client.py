"""Clients of a platform's API for one user's grant, on httpx: a bearer from the vault, kept
fresh ahead of expiry, and one refresh-and-retry when the platform signals expiry its own way
(the profile says which). The same code serves every platform: only the profile differs.

    vault = TokenVault(path="tokens.db")            # SQLite + a local key file by default
    tesla = AsyncApiClient("tesla", vault, AppCredentials(client_id, secret), user="u1")
    sign_in = tesla.start_sign_in(redirect_uri, "openid offline_access")  # send to .url
    await tesla.finish_sign_in(sign_in, landed_url)  # once, at the redirect
    vehicles = (await tesla.request("GET", "/api/1/vehicles")).json()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import httpx

from voltgate.sdk.profiles import Profile, load_profile
from voltgate.sdk.vault import signin
from voltgate.sdk.vault.exchange import AppCredentials, call_token_endpoint
from voltgate.sdk.vault.records import GrantKey, Tokens
from voltgate.sdk.vault.signin import SignIn
from voltgate.sdk.vault.vault import GrantStatus, NoGrant, TokenVault, correlation_id

T = TypeVar("T")
APP_ITSELF = "-"  # the user of a client-credentials grant: the app acts for itself


class AsyncApiClient:
    def __init__(
        self,
        profile: Profile | str,
        vault: TokenVault,
        app: AppCredentials,
        user: str = APP_ITSELF,
        *,
        base_url: str | None = None,
        region: str | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        """`base_url`: one host for the API and its token endpoint (a voltgate deployment);
        else the profile's `region` hosts."""
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.vault = vault
        self.app = app
        self.key = GrantKey(self.profile.name, app.client_id, user)
        self.base_url = (base_url or self.profile.base_url(region)).rstrip("/")
        self.token_url = self.profile.token_endpoint(base_url, region)
        self._auth_host, self._region = base_url, region
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(transport=transport, timeout=timeout)

    async def _refresh(self, current: Tokens | None, cid: str) -> Tokens:
        profile = self.profile
        if profile.refresh == "credentials":
            params = {"grant_type": "client_credentials"}
            bearer = None
        elif current is None:
            raise NoGrant(self.key)
        elif current.refresh_token is None:  # offline_access was not granted
            raise NoGrant(self.key, "no refresh token in the stored grant")
        elif profile.refresh_as_bearer:
            params, bearer = {}, current.refresh_token
        else:
            params = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
            bearer = None
        return await call_token_endpoint(
            self.http, profile, self.token_url, self.app, params,
            now=self.vault.clock(), correlation_id=cid, bearer=bearer,
        )  # fmt: skip

    def start_sign_in(self, redirect_uri: str, scope: str | None = None, **extra: str) -> SignIn:
        """A new sign-in for this client's user: send them to its `url`, keep it (by its
        `state`) until the redirect, then `finish_sign_in`. The same for every profile with an
        authorization endpoint; `ProfileError` for one without."""
        return signin.start(
            self.profile, self.app.client_id, redirect_uri, scope,
            base_url=self._auth_host, region=self._region, extra=extra,
        )  # fmt: skip

    async def finish_sign_in(self, sign_in: SignIn, answer: Mapping[str, str] | str) -> None:
        """The redirect's answer (its query, or the URL it landed on): the state checked, the
        code redeemed with the sign-in's verifier, the grant kept in the vault. `SignInError`
        for a refusal or another sign-in's answer; `TokenEndpointError` if the platform says
        no to the code."""
        code = signin.code_from(sign_in, answer)
        await self.exchange_code(code, sign_in.redirect_uri, sign_in.code_verifier)

    async def status(self) -> GrantStatus:
        """This client's grant in the vault (expiry, last refresh, failures, `needs_reauth`,
        key id); `NoGrant` before its user signed in."""
        return await self.vault.status(self.key)

    async def exchange_code(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> None:
        """Redeem an authorization code and keep the grant in the vault."""
        params = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            params["code_verifier"] = code_verifier
        tokens = await call_token_endpoint(
            self.http, self.profile, self.token_url, self.app, params,
            now=self.vault.clock(), correlation_id=correlation_id(),
        )  # fmt: skip
        await self.vault.put(self.key, tokens)

    async def sign_in_graphql(
        self, mutation: str, variables: Mapping[str, Any], bearer: str
    ) -> None:
        """A GraphQL platform's sign-in (be.ENERGISED's `initSession`, the PSK as `bearer`):
        the session it answers is kept in the vault."""
        tokens = await call_token_endpoint(
            self.http, self.profile, self.token_url, self.app, {},
            now=self.vault.clock(), correlation_id=correlation_id(), bearer=bearer,
            query=mutation, variables=variables,
        )  # fmt: skip
        await self.vault.put(self.key, tokens)

    async def access_token(self) -> str:
        return (await self.vault.tokens(self.key, self._refresh)).access_token

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """`path` under the base URL (or a full URL), with the grant's bearer; on the profile's
        expiry signal, one refresh and one retry."""
        url = path if "://" in path else self.base_url + path
        headers = dict(kwargs.pop("headers", None) or {})
        token = await self.access_token()
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {token}"
            response = await self.http.request(method, url, headers=headers, **kwargs)
            if attempt == 1 and self.profile.expired(response):
                await response.aread()
                token = (
                    await self.vault.refresh(self.key, self._refresh, stale=token)
                ).access_token
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, path: str = "/graphql"
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = dict(variables)
        return await self.request("POST", path, json=body)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncApiClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class ApiClient:
    """The blocking twin of `AsyncApiClient` (same arguments, same methods without `await`).
    Its vault and connections live on an event loop of its own, in a thread: the single-flight
    locks and every backend (asyncpg has no blocking API) are the same code as the async
    client's, and one `ApiClient` may be shared by threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="voltgate-sdk")  # fmt: skip
        self._thread.start()

        async def build() -> AsyncApiClient:
            return AsyncApiClient(*args, **kwargs)

        self._client = self._run(build())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    @property
    def key(self) -> GrantKey:
        return self._client.key

    def start_sign_in(self, redirect_uri: str, scope: str | None = None, **extra: str) -> SignIn:
        return self._client.start_sign_in(redirect_uri, scope, **extra)

    def finish_sign_in(self, sign_in: SignIn, answer: Mapping[str, str] | str) -> None:
        self._run(self._client.finish_sign_in(sign_in, answer))

    def status(self) -> GrantStatus:
        return self._run(self._client.status())

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None = None) -> None:
        self._run(self._client.exchange_code(code, redirect_uri, code_verifier))

    def sign_in_graphql(self, mutation: str, variables: Mapping[str, Any], bearer: str) -> None:
        self._run(self._client.sign_in_graphql(mutation, variables, bearer))

    def access_token(self) -> str:
        return self._run(self._client.access_token())

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._client.request(method, path, **kwargs)
            await response.aread()
            return response

        return self._run(call())

    def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, path: str = "/graphql"
    ) -> httpx.Response:
        return self._run(self._client.graphql(query, variables, path))

    def close(self) -> None:
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
