"""The browser side of delegated access: authorize (RFC 6749 §4.1.1), sign-in, consent, and the
user's connected apps. HTTP only; the decisions are the identity core's.

Every page is served with a CSP that forbids framing (clickjacking on Allow), no caching and no
referrer; every form carries a CSRF token; cookies are HttpOnly, SameSite=Lax, Secure over https.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from voltgate.errors import InvalidGrant, InvalidRequest, RateLimited
from voltgate.http.adapter import runtime
from voltgate.http.body import parse_params
from voltgate.identity.authorize import (
    AuthorizationRequest,
    RedirectError,
    UntrustedRequest,
    redirect_to,
    validate,
)
from voltgate.identity.consent import describe_scope
from voltgate.runtime import Runtime
from voltgate.web.session import SESSION_TTL, BrowserState, WebSession, cookie_names

templates = Environment(
    loader=PackageLoader("voltgate.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_CSS = (files("voltgate.web") / "static" / "voltgate.css").read_text(encoding="utf-8")
ACCOUNT_HOME = "/account/apps"
_FORM_MAX = 16_384

router = APIRouter(include_in_schema=False)


# -- plumbing --------------------------------------------------------------------------------
def _browser(request: Request) -> BrowserState:
    state: BrowserState = request.app.state.browser
    return state


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


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


def _origin_source(uri: str) -> list[str]:
    """The CSP source for a redirect URI, so the redirect after a form post is allowed."""
    parts = urlsplit(uri)
    source = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    safe = all(c.isalnum() or c in ":/.-[]_" for c in source)
    return [source] if safe and parts.scheme else []


class _Page:
    """A rendered page plus the cookies it sets; CSRF cookie issued when the browser lacks one."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.secure = _secure(request)
        self.session_name, self.csrf_name = cookie_names(self.secure)
        self.csrf_cookie = request.cookies.get(self.csrf_name)
        self._new_csrf: str | None = None

    @property
    def request_address(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def csrf(self) -> str:
        browser = _browser(self.request)
        if not self.csrf_cookie:
            self.csrf_cookie = self._new_csrf = browser.new_csrf_cookie()
        return browser.csrf_token(self.csrf_cookie)

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
        rt = runtime(self.request)
        html = templates.get_template(template).render(
            environment=rt.settings.environment.value, **context
        )
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


async def _session(request: Request, rt: Runtime, page: _Page) -> WebSession | None:
    """The signed-in user's session, if the cookie is genuine, current and the user active."""
    session = _browser(request).read_session(request.cookies.get(page.session_name))
    if session is None:
        return None
    user = await rt.identity.users.find(session.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return session


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _FORM_MAX:
        raise InvalidRequest("the form is too large")
    return parse_params(body, request.headers.get("content-type"), allow_json=False)


def _query(request: Request) -> dict[str, list[str]]:
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


def _return_to(request: Request, value: str | None) -> str:
    """A post-sign-in destination on this server only: no open redirect (RFC 9700 §4.11)."""
    if not value or len(value) > 8192 or "\\" in value or not value.startswith("/"):
        return ACCOUNT_HOME
    parts = urlsplit(value)
    allowed = {ACCOUNT_HOME, *request.app.state.authorize_paths}
    if parts.scheme or parts.netloc or parts.path not in allowed:
        return ACCOUNT_HOME
    return value


async def _resumed_request(
    request: Request, rt: Runtime, return_to: str
) -> AuthorizationRequest | None:
    """The authorization request a sign-in will resume, if `return_to` is a valid one."""
    parts = urlsplit(return_to)
    if parts.path not in request.app.state.authorize_paths:
        return None
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, max_num_fields=64):
        params.setdefault(key, []).append(value)
    try:
        return await validate(params, rt.identity.clients)
    except (UntrustedRequest, RedirectError):
        return None


def _stamp(at: float | None) -> str:
    return "—" if at is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


# -- authorize ------------------------------------------------------------------------------
async def authorize(request: Request) -> Response:
    rt = runtime(request)
    page = _Page(request)
    try:
        auth = await validate(_query(request), rt.identity.clients)
    except UntrustedRequest as exc:
        return page.error(exc.error, exc.description)
    except RedirectError as exc:
        return _redirect_error(rt, page, exc)
    session = await _session(request, rt, page)
    if (
        session is None
        or auth.wants("login")
        or auth.wants("select_account")
        or _too_old(auth, session, rt)
    ):
        if auth.wants("none"):
            return _refuse(rt, page, auth, "login_required", "the user is not signed in")
        return page.render(
            "login.html",
            form_targets=_origin_source(auth.redirect_uri),
            csrf=page.csrf(),
            return_to=f"{request.url.path}?{auth.resume_query()}",
            app_name=auth.client.name,
            email="",
            message=None,
        )
    if auth.wants("consent") or not await rt.identity.consents.covers(
        session.user_id, auth.client.id, auth.scopes
    ):
        if auth.wants("none"):
            return _refuse(rt, page, auth, "consent_required", "the user has not consented")
        return await _consent_page(rt, page, auth, session)
    return await _approve(rt, page, auth, session)


def _too_old(auth: AuthorizationRequest, session: WebSession, rt: Runtime) -> bool:
    return auth.max_age is not None and rt.clock.now() - session.auth_time > auth.max_age


async def _consent_page(
    rt: Runtime, page: _Page, auth: AuthorizationRequest, session: WebSession
) -> Response:
    user = await rt.identity.users.get(session.user_id)
    return page.render(
        "consent.html",
        form_targets=_origin_source(auth.redirect_uri),
        csrf=page.csrf(),
        sealed_request=_browser(page.request).seal_request(auth.params, session),
        app_name=auth.client.name,
        user_email=user.email,
        scopes=[(s, describe_scope(s)) for s in auth.scopes],
        redirect_host=urlsplit(auth.redirect_uri).netloc or urlsplit(auth.redirect_uri).scheme,
    )


async def _approve(
    rt: Runtime, page: _Page, auth: AuthorizationRequest, session: WebSession
) -> Response:
    code = await rt.identity.delegation.issue_code(
        client=auth.client,
        user_id=session.user_id,
        redirect_uri=auth.redirect_uri,
        scopes=auth.scopes,
        auth_time=session.auth_time,
        nonce=auth.nonce,
        code_challenge=auth.code_challenge,
    )
    location = redirect_to(
        auth.redirect_uri, {"code": code, "state": auth.state, "iss": rt.settings.issuer}
    )
    return page.redirect(location, 302)


def _refuse(
    rt: Runtime, page: _Page, auth: AuthorizationRequest, error: str, description: str
) -> Response:
    return _redirect_error(
        rt, page, RedirectError(error, description, auth.redirect_uri, auth.state)
    )


def _redirect_error(rt: Runtime, page: _Page, exc: RedirectError) -> Response:
    location = redirect_to(
        exc.redirect_uri,
        {
            "error": exc.error,
            "error_description": exc.description,
            "state": exc.state,
            "iss": rt.settings.issuer,
        },
    )
    return page.redirect(location, 302)


@router.post("/oauth/authorize/decision")
async def decision(request: Request) -> Response:
    rt = runtime(request)
    page = _Page(request)
    form = await _form(request)
    if not _browser(request).csrf_valid(page.csrf_cookie, form.get("csrf")):
        return page.error("invalid_request", "the form has expired; start again from the app", 403)
    session = await _session(request, rt, page)
    params = _browser(request).open_request(form.get("request"), session) if session else None
    if session is None or params is None:
        return page.error("invalid_request", "the form has expired; start again from the app")
    try:
        auth = await validate(params, rt.identity.clients)
    except UntrustedRequest as exc:
        return page.error(exc.error, exc.description)
    except RedirectError as exc:
        return _redirect_error(rt, page, exc)
    choice = form.get("decision")
    if choice == "deny":
        return _refuse(rt, page, auth, "access_denied", "the user denied the request")
    if choice != "allow":
        return page.error("invalid_request", "choose Allow or Deny")
    await rt.identity.consents.grant(session.user_id, auth.client.id, auth.scopes)
    return await _approve(rt, page, auth, session)


# -- sign-in --------------------------------------------------------------------------------
@router.get("/login")
async def login_page(request: Request) -> Response:
    page = _Page(request)
    return page.render(
        "login.html",
        csrf=page.csrf(),
        return_to=_return_to(request, request.query_params.get("return_to")),
        app_name=None,
        email="",
        message=None,
    )


@router.post("/login")
async def login(request: Request) -> Response:
    rt = runtime(request)
    page = _Page(request)
    form = await _form(request)
    return_to = _return_to(request, form.get("return_to"))
    if not _browser(request).csrf_valid(page.csrf_cookie, form.get("csrf")):
        # Login CSRF: a sign-in posted from another site must not sign the browser in.
        return page.error("invalid_request", "the sign-in form has expired; reload the page", 403)
    email = form.get("email", "")[:320]
    try:
        user = await rt.identity.users.authenticate(
            email, form.get("password", ""), page.request_address
        )
    except (InvalidGrant, RateLimited) as exc:
        headers = exc.headers if isinstance(exc, RateLimited) else {}
        resumed = await _resumed_request(request, rt, return_to)
        return page.render(
            "login.html",
            exc.status_code if isinstance(exc, RateLimited) else 401,
            headers=headers,
            form_targets=_origin_source(resumed.redirect_uri) if resumed else (),
            csrf=page.csrf(),
            return_to=return_to,
            app_name=resumed.client.name if resumed else None,
            email=email,
            message=exc.description,
        )
    _, cookie = _browser(request).new_session(user.id)
    page.rotate_csrf()  # a fresh CSRF secret for the signed-in session
    response = page.redirect(return_to)
    page.start_session(response, cookie)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    page = _Page(request)
    form = await _form(request)
    if not _browser(request).csrf_valid(page.csrf_cookie, form.get("csrf")):
        return page.error("invalid_request", "the form has expired; reload the page", 403)
    response = page.redirect("/login")
    page.end_session(response)
    return response


# -- connected apps -------------------------------------------------------------------------
@router.get(ACCOUNT_HOME)
async def apps_page(request: Request) -> Response:
    rt = runtime(request)
    page = _Page(request)
    session = await _session(request, rt, page)
    if session is None:
        return page.redirect(f"/login?return_to={ACCOUNT_HOME}")
    user = await rt.identity.users.get(session.user_id)
    apps = [
        {
            "client_id": app.consent.client_id,
            "name": app.client_name,
            "scopes": [(s, describe_scope(s)) for s in app.consent.scope.split()],
            "granted_at": _stamp(app.consent.granted_at),
            "last_used_at": _stamp(app.last_used_at),
        }
        for app in await rt.identity.consents.apps(session.user_id)
    ]
    return page.render("apps.html", csrf=page.csrf(), user_email=user.email, apps=apps)


@router.post(f"{ACCOUNT_HOME}/revoke")
async def revoke_app(request: Request) -> Response:
    rt = runtime(request)
    page = _Page(request)
    form = await _form(request)
    if not _browser(request).csrf_valid(page.csrf_cookie, form.get("csrf")):
        return page.error("invalid_request", "the form has expired; reload the page", 403)
    session = await _session(request, rt, page)
    if session is None:
        return page.redirect(f"/login?return_to={ACCOUNT_HOME}")
    client_id = form.get("client_id", "")[:128]
    await rt.identity.consents.disconnect(
        session.user_id,
        client_id,
        request_id=request.scope.get("state", {}).get("request_id"),
        address=page.request_address,
    )
    return page.redirect(ACCOUNT_HOME)


@router.get("/assets/voltgate.css")
async def stylesheet() -> Response:
    return PlainTextResponse(
        _CSS,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def mount_authorize(app: FastAPI, path: str) -> None:
    """Serve the authorization endpoint at a dialect's path (`/o/authorize/`, …)."""
    app.add_api_route(path, authorize, methods=["GET"], include_in_schema=False)
    app.state.authorize_paths.add(path)


def install(app: FastAPI, rt: Runtime) -> None:
    app.state.browser = BrowserState(rt.crypto, rt.clock)
    app.state.authorize_paths = set()
    app.include_router(router)
    mount_authorize(app, "/oauth/authorize")
