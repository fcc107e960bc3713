"""Which URLs an app may register: https with a public host in production; in the sandbox also
http and loopback, so a developer (and a test) can receive on their own machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from voltgate.errors import ValidationFailed

MAX_URL = 2000


def check_url(url: str, *, sandbox: bool) -> str:
    """The URL as registered, or 400 saying what is wrong with it."""
    if len(url) > MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise ValidationFailed("url: not a URL (at most 2000 characters, no spaces)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("url: not a URL") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if sandbox else ("https",)
    if scheme not in allowed:
        where = "in the sandbox" if sandbox else "outside the sandbox"
        raise ValidationFailed(f"url: must be {' or '.join(allowed)} {where}")
    host = parts.hostname
    if not host:
        raise ValidationFailed("url: names no host")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("url: must not carry credentials (user:password@)")
    if parts.fragment:
        raise ValidationFailed("url: must not have a fragment")
    if port == 0:
        raise ValidationFailed("url: port 0 is not a port")
    if not sandbox and _private(host):
        raise ValidationFailed("url: must name a public host outside the sandbox")
    return url


def _private(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    if "." not in name and ":" not in name:  # a single label: a name on the local network
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global
