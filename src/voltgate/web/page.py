"""What every page shares: the templates, the security headers, a page's cookies and CSRF
token, the signed-in session, and bounded reads of forms and queries.

Every page is served with a CSP that forbids framing (clickjacking on Allow), no caching and no
referrer; every form carries a CSRF token; cookies are HttpOnly, SameSite=Lax, Secure over https.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from voltgate.http.body import parse_params
from voltgate.http.request import RawRequest
from voltgate.identity.authorize import (
    AuthorizationRequest,
    RedirectError,
    UntrustedRequest,
    validate,
)
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.users import Users
from voltgate.web.session import SESSION_TTL, BrowserState, WebSession, cookie_names

templates = Environment(
    loader=PackageLoader("voltgate.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
ACCOUNT_HOME = "/account/apps"
# The key-pairing pages (`web.keys`): `/_ak/<domain>`, a sign-in may return to one.
PAIR_PREFIX = "/_ak/"
_PAIR_DOMAIN = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,262}$")
# The developer portal's pages (`web.portal`): a sign-in may return to one.
PORTAL_HOME = "/developer"
_PORTAL_PAGE = re.compile(r"^/developer(?:/apps/(?:new|[A-Za-z0-9_.-]{1,128}))?$")
# A page form holds at most an authorization request (one whose sealed form passes 8,192
# characters is refused, web.session) and a CSRF token: 16 KiB holds them, encoded.
FORM_MAX = 16_384


def security_headers(form_targets: Iterable[str] = ("'self'",)) -> dict[str, str]:
    """Headers for every page: no framing, no caching, no referrer, only our own assets."""
    targets = " ".join(form_targets) or "'none'"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; "
            f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def origin_source(uri: str) -> list[str]:
    """The CSP source for a redirect URI, so the redirect after a form post is allowed."""
    parts = urlsplit(uri)
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    safe = all(c.isalnum() or c in ":/.-[]_" for c in source)
    return [source] if safe and parts.scheme else []


def stamp(at: float | None) -> str:
    return "—" if at is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


async def read_form(request: Request) -> dict[str, str]:
    """The posted form: 413 past FORM_MAX bytes (before reading it all), 415 unless form-encoded."""
    body = await RawRequest(request.scope, request.receive).body(FORM_MAX)
    return parse_params(body, request.headers.get("content-type"), allow_json=False)


def query_params(request: Request) -> dict[str, list[str]]:
    """The query as sent: strict UTF-8, no NUL, at most 64 fields."""
    params: dict[str, list[str]] = {}
    raw = request.scope.get("query_string", b"").decode("latin-1")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise UntrustedRequest("invalid_request", "the request is not valid UTF-8") from None
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise UntrustedRequest("invalid_request", "the request contains a NUL character")
        params.setdefault(key, []).append(value)
    return params


class Page:
    """A rendered page plus the cookies it sets; CSRF cookie issued when the browser lacks one."""

    def __init__(self, request: Request, browser: BrowserState, environment: str) -> None:
        self.request = request
        self.browser = browser
        self.environment = environment
        self.secure = request.url.scheme == "https"
        self.session_name, self.csrf_name = cookie_names(self.secure)
        self.csrf_cookie = request.cookies.get(self.csrf_name)
        self._new_csrf: str | None = None

    @property
    def request_address(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def csrf(self) -> str:
        if not self.csrf_cookie:
            self.csrf_cookie = self._new_csrf = self.browser.new_csrf_cookie()
        return self.browser.csrf_token(self.csrf_cookie)

    def csrf_valid(self, form: dict[str, str]) -> bool:
        return self.browser.csrf_valid(self.csrf_cookie, form.get("csrf"))

    def rotate_csrf(self) -> None:
        self.csrf_cookie = None
        self.csrf()

    def render(
        self,
        template: str,
        status: int = 200,
        *,
        form_targets: Iterable[str] = (),
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        html = templates.get_template(template).render(environment=self.environment, **context)
        targets = ["'self'", *form_targets]
        response = HTMLResponse(
            html, status, headers={**security_headers(targets), **(headers or {})}
        )
        self.finish(response)
        return response

    def redirect(self, location: str, status: int = 303) -> Response:
        response = RedirectResponse(location, status, headers={"Cache-Control": "no-store"})
        self.finish(response)
        return response

    def finish(self, response: Response) -> None:
        if self._new_csrf:
            self._cookie(response, self.csrf_name, self._new_csrf, SESSION_TTL)

    def start_session(self, response: Response, cookie: str) -> None:
        self._cookie(response, self.session_name, cookie, SESSION_TTL)

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            self.session_name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def error(self, error: str, description: str, status: int = 400) -> HTMLResponse:
        return self.render("error.html", status, error=error, description=description)


@dataclass(frozen=True, slots=True)
class Site:
    """What the pages share, bound at start-up: the browser state (cookies, CSRF), the users a
    session belongs to, the clients an authorization request names, the environment shown in
    the banner and the paths the authorization endpoint is served at."""

    browser: BrowserState
    users: Users
    clients: ClientRegistry
    environment: str
    authorize_paths: frozenset[str]

    def page(self, request: Request) -> Page:
        return Page(request, self.browser, self.environment)

    async def session(self, page: Page) -> WebSession | None:
        """The signed-in user's session, if the cookie is genuine, current and the user active."""
        session = self.browser.read_session(page.request.cookies.get(page.session_name))
        if session is None:
            return None
        user = await self.users.find(session.user_id)
        if user is None or user.disabled_at is not None:
            return None
        return session

    def return_to(self, value: str | None) -> str:
        """A post-sign-in destination on this server only: no open redirect (RFC 9700 §4.11)."""
        if not value or len(value) > 8192 or "\\" in value or not value.startswith("/"):
            return ACCOUNT_HOME
        parts = urlsplit(value)
        allowed = {ACCOUNT_HOME, *self.authorize_paths}
        if parts.scheme or parts.netloc:
            return ACCOUNT_HOME
        pairing = parts.path.removeprefix(PAIR_PREFIX)
        if parts.path in allowed or (
            pairing != parts.path and not parts.query and _PAIR_DOMAIN.match(pairing)
        ):
            return value
        if _PORTAL_PAGE.match(parts.path) and parts.query in ("", "range=day"):
            return value
        return ACCOUNT_HOME

    async def resumed_request(self, return_to: str) -> AuthorizationRequest | None:
        """The authorization request a sign-in will resume, if `return_to` is a valid one."""
        parts = urlsplit(return_to)
        if parts.path not in self.authorize_paths:
            return None
        params: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True, max_num_fields=64):
            params.setdefault(key, []).append(value)
        try:
            return await validate(params, self.clients)
        except (UntrustedRequest, RedirectError):
            return None
