"""Which URLs an endpoint may have: https with a public host in production; http and loopback
too in the sandbox."""

from __future__ import annotations

import pytest

from voltgate.errors import ValidationFailed
from voltgate.webhooks.urls import check_url

PUBLIC = ("https://hooks.example.com/voltgate", "https://93.184.216.34:8443/in?x=1")
LOCAL = (
    "http://127.0.0.1:8080/hooks",
    "https://localhost/hooks",
    "https://[::1]/hooks",
    "https://10.0.0.7/hooks",
    "https://192.168.1.20/hooks",
    "https://169.254.169.254/latest",
    "https://intranet/hooks",
    "https://api.localhost/hooks",
)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_https_urls_are_taken_everywhere(url: str) -> None:
    assert check_url(url, sandbox=False) == url
    assert check_url(url, sandbox=True) == url


@pytest.mark.parametrize("url", LOCAL)
def test_loopback_and_private_hosts_only_in_the_sandbox(url: str) -> None:
    assert check_url(url, sandbox=True) == url
    with pytest.raises(ValidationFailed, match=r"public host|must be https"):
        check_url(url, sandbox=False)


def test_http_only_in_the_sandbox() -> None:
    assert check_url("http://hooks.example.com/x", sandbox=True)
    with pytest.raises(ValidationFailed, match="must be https outside the sandbox"):
        check_url("http://hooks.example.com/x", sandbox=False)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://hooks.example.com/x", "must be https or http"),
        ("hooks.example.com/x", "must be https or http"),
        ("https:///x", "names no host"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https://hooks.example.com:99999/x", "not a URL"),
        ("https://hooks.example.com/a b", "not a URL"),
        ("https://hooks.example.com/\x00", "not a URL"),
        ("https://hooks.example.com/" + "x" * 2000, "not a URL"),
    ],
)
def test_what_is_not_an_endpoint(url: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        check_url(url, sandbox=True)
