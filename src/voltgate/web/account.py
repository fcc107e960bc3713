"""Sign-in, sign-out and the user's connected apps (consents they can revoke), with the apps'
keys each of their vehicles holds (`web.keys` lists them). A GET of /logout asks before signing
out; a GET of the revoke form's URL is the account page (`web.methods`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from voltgate.errors import InvalidGrant, RateLimited
from voltgate.identity.consent import Consents, describe_scope
from voltgate.web.page import ACCOUNT_HOME, Site, origin_source, read_form, stamp

LOGIN_PATH = "/login"
# A user's vehicles with the keys each holds, as the page lists them.
VehicleKeys = Callable[[str], Awaitable[list[dict[str, Any]]]]


async def _no_vehicle_keys(_user_id: str) -> list[dict[str, Any]]:
    return []


class Account:
    def __init__(
        self, site: Site, consents: Consents, vehicle_keys: VehicleKeys = _no_vehicle_keys
    ) -> None:
        self._site = site
        self._consents = consents
        self._vehicle_keys = vehicle_keys

    async def login_page(self, request: Request) -> Response:
        page = self._site.page(request)
        return page.render(
            "login.html",
            csrf=page.csrf(),
            return_to=self._site.return_to(request.query_params.get("return_to")),
            app_name=None,
            email="",
            message=None,
        )

    async def login(self, request: Request) -> Response:
        site = self._site
        page = site.page(request)
        form = await read_form(request)
        return_to = site.return_to(form.get("return_to"))
        if not page.csrf_valid(form):
            # Login CSRF: a sign-in posted from another site must not sign the browser in.
            return page.error(
                "invalid_request", "the sign-in form has expired; reload the page", 403
            )
        email = form.get("email", "")[:320]
        try:
            user = await site.users.authenticate(
                email, form.get("password", ""), page.request_address
            )
        except (InvalidGrant, RateLimited) as exc:
            limited = isinstance(exc, RateLimited)
            resumed = await site.resumed_request(return_to)
            return page.render(
                "login.html",
                exc.status_code if limited else 401,
                headers=exc.headers if limited else {},
                form_targets=origin_source(resumed.redirect_uri) if resumed else (),
                csrf=page.csrf(),
                return_to=return_to,
                app_name=resumed.client.name if resumed else None,
                email=email,
                message=exc.description,
            )
        _, cookie = site.browser.new_session(user.id)
        page.rotate_csrf()  # a fresh CSRF secret for the signed-in session
        response = page.redirect(return_to)
        page.start_session(response, cookie)
        return response

    async def logout_page(self, request: Request) -> Response:
        """GET of /logout (a reload, a link): a page that asks, never a sign-out (a link from
        another site must not sign the browser out); the sign-in page when signed out already."""
        site = self._site
        page = site.page(request)
        session = await site.session(page)
        if session is None:
            return page.redirect(LOGIN_PATH)
        user = await site.users.get(session.user_id)
        return page.render(
            "signout.html", csrf=page.csrf(), user_email=user.email, back=ACCOUNT_HOME
        )

    async def logout(self, request: Request) -> Response:
        page = self._site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", "the form has expired; reload the page", 403)
        response = page.redirect(LOGIN_PATH)
        page.end_session(response)
        return response

    async def apps(self, request: Request) -> Response:
        site = self._site
        page = site.page(request)
        session = await site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={ACCOUNT_HOME}")
        user = await site.users.get(session.user_id)
        apps = [
            {
                "client_id": app.consent.client_id,
                "name": app.client_name,
                "scopes": [(s, describe_scope(s)) for s in app.consent.scope.split()],
                "granted_at": stamp(app.consent.granted_at),
                "last_used_at": stamp(app.last_used_at),
            }
            for app in await self._consents.apps(session.user_id)
        ]
        return page.render(
            "apps.html",
            csrf=page.csrf(),
            user_email=user.email,
            apps=apps,
            vehicles=await self._vehicle_keys(session.user_id),
        )

    async def to_apps(self, request: Request) -> Response:
        """GET of a form's URL on the account page (a reload, a bookmark): that page."""
        return self._site.page(request).redirect(ACCOUNT_HOME)

    async def revoke(self, request: Request) -> Response:
        site = self._site
        page = site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", "the form has expired; reload the page", 403)
        session = await site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={ACCOUNT_HOME}")
        client_id = form.get("client_id", "")[:128]
        await self._consents.disconnect(
            session.user_id,
            client_id,
            request_id=request.scope.get("state", {}).get("request_id"),
            address=page.request_address,
        )
        return page.redirect(ACCOUNT_HOME)
