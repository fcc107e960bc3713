"""Downloading a partner's hosted public key, as Tesla does at registration: one GET of
`https://<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem`, no redirect followed,
a deadline for the whole download and a cap on its size, then the file read as a P-256 key.

Every refusal names its cause (redirect, HTTP status, HTML, not PEM, wrong curve, too big,
timeout, unreachable), as the registration error shows it. Outside a sandbox the domain must
resolve to public addresses only, so a registration cannot make the server probe its own
network (checked before the download: a name whose answer changes in between is not caught);
in a sandbox a loopback domain with a port is fetched over http.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpx

from voltgate import __version__
from voltgate.identity.appkeys import KEY_PATH, KeyRefused, read_public_pem

TIMEOUT = 5.0  # seconds for the whole download, connecting included
MAX_BYTES = 4_096  # a P-256 public key PEM is 178 bytes
CONCURRENT = 8  # downloads under way at once; registrations past that wait their turn
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_HEADERS = {
    "user-agent": f"voltgate-partner-keys/{__version__}",
    "accept": "application/x-pem-file, text/plain;q=0.5, */*;q=0.1",
}


def is_loopback(domain: str) -> bool:
    """A loopback domain with a port (`127.0.0.1:8443`): sandboxes only."""
    host, _, port = domain.rpartition(":")
    return host in _LOOPBACK_HOSTS and port.isdigit()


def key_url(domain: str) -> str:
    scheme = "http" if is_loopback(domain) else "https"
    return f"{scheme}://{domain}{KEY_PATH}"


def _refused(url: str, reason: str) -> KeyRefused:
    return KeyRefused(f"public key download failed for {url}: {reason}")


class PemFetcher:
    def __init__(
        self,
        *,
        sandbox: bool,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._transport = transport
        self._turns = asyncio.Semaphore(CONCURRENT)

    async def fetch(self, domain: str) -> bytes:
        """The domain's hosted P-256 public key (its 65-byte point), or `KeyRefused`."""
        url = key_url(domain)
        if is_loopback(domain) and not self._sandbox:
            raise _refused(url, "loopback addresses are for sandboxes only")
        async with self._turns:
            try:
                async with asyncio.timeout(self._timeout):
                    if not self._sandbox:
                        await self._check_public(url, domain)
                    content_type, body = await self._download(url)
            except TimeoutError:
                raise _refused(url, f"timeout (no answer within {self._timeout:g} s)") from None
            except httpx.TimeoutException:
                raise _refused(url, f"timeout (no answer within {self._timeout:g} s)") from None
            except (httpx.HTTPError, OSError) as exc:
                raise _refused(url, f"unreachable ({_describe(exc)})") from None
        try:
            return read_public_pem(body, content_type)
        except KeyRefused as exc:
            raise _refused(url, exc.description) from None

    async def _download(self, url: str) -> tuple[str | None, bytes]:
        limit = self._max_bytes
        too_big = f"too big (more than {limit} bytes; a P-256 public key PEM is about 180)"
        async with (
            httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                trust_env=False,
                transport=self._transport,
                headers=_HEADERS,
            ) as client,
            client.stream("GET", url) as response,
        ):
            status = response.status_code
            if 300 <= status < 400:
                target = response.headers.get("location", "")[:200] or "nowhere"
                raise _refused(
                    url,
                    f"redirect (HTTP {status} to {target}): serve the key at this exact URL; "
                    "redirects are not followed",
                )
            if status != 200:
                raise _refused(url, f"HTTP {status} (the key must be served with 200)")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _refused(url, too_big)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise _refused(url, too_big)
            return response.headers.get("content-type"), bytes(body)

    async def _check_public(self, url: str, domain: str) -> None:
        """Every address the name resolves to is public (no private, loopback or link-local)."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                domain, 443, type=socket.SOCK_STREAM
            )
        except OSError:
            raise _refused(url, "unreachable (the name does not resolve)") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not address.is_global:
                raise _refused(url, f"the domain resolves to a non-public address ({address})")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE" in str(exc).upper():
            return "its TLS certificate is not trusted"
        return "connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the HTTP exchange"
    return type(exc).__name__
