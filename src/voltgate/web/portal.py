"""The developer portal in the browser: a signed-in user registers apps, sees a client id and
secret once, rotates the secret with an overlap, sets allowed origins, the public-key domain
and webhook URLs, and reads each app's usage as charts. HTTP only: the decisions are
`portal.service`'s, `identity.partners`' and `webhooks.service`'s.

Every form carries the CSRF token; every page is the sign-in page first for a browser without
a session; another developer's app is answered as one that does not exist (404). A form that
makes a secret answers 303 to the page that shows it (post, redirect, get: a reload never
registers or rotates again), and the secret waits sealed for that one view (`portal.reveals`).
A page URL answers HTML, never an API error: a GET of a form's URL is sent to its page.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.appkeys import KeyRefused
from voltgate.identity.consent import CONSENT_SCOPES, describe_scope
from voltgate.identity.partners import Partners
from voltgate.portal.reveals import Reveal, Reveals
from voltgate.portal.service import DeveloperApps, FormInvalid, OwnedApp, UsageRecorder
from voltgate.web.account import LOGIN_PATH
from voltgate.web.methods import Back, error_page, page_route
from voltgate.web.page import PORTAL_HOME, Page, Site, read_form, stamp
from voltgate.web.portal_view import (
    KINDS,
    OVERLAPS,
    RANGES,
    STAGES,
    app_view,
    status_of,
    usage_charts,
)
from voltgate.web.session import WebSession
from voltgate.webhooks.service import Webhooks

APPS_PATH = f"{PORTAL_HOME}/apps"
NEW_PATH = f"{APPS_PATH}/new"
SHOWN_PAGE = "secret"  # /developer/apps/{client_id}/secret?reveal=…: a new secret, once
_EXPIRED = "the form has expired; go back, reload the page and send it again"
_NO_APP = "you have no app with this client id"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# Each form's URL (/developer/apps/{client_id}/{action}) and where on the app's page it is.
_SECTIONS = {
    "rotate": "secrets",
    "origins": "origins",
    "domain": "domain",
    "webhooks": "webhooks",
    "webhooks-delete": "webhooks",
}
_PORTAL = Back("Developer portal", PORTAL_HOME, "Back to the developer portal")


class PortalPages:
    def __init__(
        self,
        site: Site,
        apps: DeveloperApps,
        usage: UsageRecorder,
        reveals: Reveals,
        partners: Partners,
        webhooks: Webhooks | None,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._site = site
        self._apps = apps
        self._usage = usage
        self._reveals = reveals
        self._partners = partners
        self._webhooks = webhooks

    def routes(self) -> list[BaseRoute]:
        site = self._site
        return [
            page_route(PORTAL_HOME, site, _PORTAL, get=self.home),
            page_route(NEW_PATH, site, _PORTAL, get=self.new_page),
            page_route(APPS_PATH, site, _PORTAL, get=self.to_home, post=self.register),
            page_route(APPS_PATH + "/{client_id}", site, _PORTAL, get=self.app_page),
            page_route(
                APPS_PATH + "/{client_id}/{action}",
                site,
                _PORTAL,
                get=self.form_page,
                post=self.action,
            ),
        ]

    async def to_home(self, request: Request) -> Response:
        """GET of the registration form's URL (a reload, a bookmark): the portal's home."""
        return self._site.page(request).redirect(PORTAL_HOME)

    async def form_page(self, request: Request) -> Response:
        """GET of /developer/apps/{client_id}/{action}: a new secret's page, or the app's page
        at the form that posts there (a reload after the 303, a bookmark, a typed URL)."""
        page = self._site.page(request)
        client_id = str(request.path_params["client_id"])
        action = str(request.path_params["action"])
        if action == SHOWN_PAGE:
            return await self._shown(page, client_id)
        if action not in _SECTIONS or not _CLIENT_ID.match(client_id):
            return _error(page, "there is no such page in the developer portal", 404)
        return page.redirect(f"{APPS_PATH}/{client_id}#{_SECTIONS[action]}")

    async def _session(self, page: Page, back: str) -> WebSession | Response:
        session = await self._site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={quote(back, safe='')}")
        return session

    async def home(self, request: Request) -> Response:
        page = self._site.page(request)
        session = await self._session(page, PORTAL_HOME)
        if not isinstance(session, WebSession):
            return session
        user = await self._site.users.get(session.user_id)
        apps = [
            {
                "client_id": o.client.id,
                "name": o.client.name,
                "stage": o.app.stage,
                "status": status_of(o),
                "created_at": stamp(o.app.created_at),
            }
            for o in await self._apps.mine(session.user_id)
        ]
        return page.render("portal_home.html", csrf=page.csrf(), user_email=user.email, apps=apps)

    async def new_page(self, request: Request) -> Response:
        page = self._site.page(request)
        session = await self._session(page, NEW_PATH)
        if not isinstance(session, WebSession):
            return session
        return self._form(page, {})

    def _form(
        self, page: Page, form: dict[str, str], problems: list[str] | None = None, status: int = 200
    ) -> Response:
        chosen = {name.removeprefix("scope.") for name in form if name.startswith("scope.")}
        return page.render(
            "portal_new.html",
            status,
            csrf=page.csrf(),
            form=form,
            kinds=KINDS,
            stages=STAGES,
            scopes=[(s, describe_scope(s), s in chosen) for s in CONSENT_SCOPES],
            problems=problems or [],
        )

    async def register(self, request: Request) -> Response:
        page = self._site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return _error(page, _EXPIRED, 403)
        session = await self._session(page, NEW_PATH)
        if not isinstance(session, WebSession):
            return session
        domain = form.get("domain", "").strip()
        also = []
        if domain:
            try:
                self._partners.check_domain(domain)
            except ValidationFailed as exc:
                also.append(f"public-key domain: {exc.description}")
        try:
            registered = await self._apps.register(
                session.user_id,
                name=form.get("name", "")[:200],
                kind=form.get("kind", ""),
                scopes=[n.removeprefix("scope.") for n in form if n.startswith("scope.")],
                redirect_uris=form.get("redirect_uris", ""),
                allowed_origins=form.get("allowed_origins", ""),
                stage=form.get("stage", ""),
                also=also,
            )
        except FormInvalid as exc:
            return self._form(page, form, exc.problems, 400)
        except ValidationFailed as exc:
            return self._form(page, form, [exc.description], 400)
        client = registered.owned.client
        warning = await self._set_domain(client.id, domain)
        reveal = Reveal("Your app's credentials", registered.secret, warning=warning)
        return await self._to_secret(page, session, client.id, reveal)

    async def _to_secret(
        self, page: Page, session: WebSession, client_id: str, reveal: Reveal
    ) -> Response:
        """303 to the page that shows `reveal` once; the secret waits there sealed."""
        reveal_id = await self._reveals.hold(session.id, client_id, reveal)
        return page.redirect(f"{APPS_PATH}/{client_id}/{SHOWN_PAGE}?reveal={reveal_id}")

    async def _shown(self, page: Page, client_id: str) -> Response:
        session = await self._session(page, f"{APPS_PATH}/{client_id}")
        if not isinstance(session, WebSession):
            return session
        owned = await self._owned(page, session, client_id)
        if owned is None:
            return _error(page, _NO_APP, 404)
        reveal_id = page.request.query_params.get("reveal", "")
        # Only a GET takes it: a HEAD (a link checker, a preview) gets no body to show it in.
        get = page.request.method == "GET"
        reveal = await self._reveals.take(session.id, owned.client.id, reveal_id) if get else None
        public = owned.client.kind.is_public
        if reveal is None:  # shown already (a reload), expired, or another browser's
            heading = "Your app's credentials" if public else "Secret already shown"
            reveal = Reveal(heading, None)
        return page.render(
            "portal_secret.html",
            heading=reveal.heading,
            name=owned.client.name,
            client_id=owned.client.id,
            secret=reveal.secret,
            secret_label=reveal.label,
            webhook_url=reveal.webhook_url,
            public=public and reveal.webhook_url is None,
            waiting=owned.client.awaiting_approval,
            warning=reveal.warning,
            note=reveal.note,
        )

    async def _set_domain(self, client_id: str, domain: str) -> str | None:
        """Register the app's public-key domain; what went wrong, if anything."""
        if not domain:
            return None
        try:
            await self._partners.register(client_id, domain[:253])
        except (ValidationFailed, KeyRefused, Conflict) as exc:
            return f"The public-key domain was not registered: {exc.description}"
        return None

    async def _owned(self, page: Page, session: WebSession, client_id: str) -> OwnedApp | None:
        try:
            return await self._apps.owned(session.user_id, client_id)
        except NotFound:
            return None

    async def app_page(self, request: Request) -> Response:
        page = self._site.page(request)
        client_id = str(request.path_params["client_id"])
        chosen = request.query_params.get("range", "hour")
        chosen = chosen if chosen in RANGES else "hour"
        back = f"{APPS_PATH}/{client_id}" + ("?range=day" if chosen == "day" else "")
        session = await self._session(page, back)
        if not isinstance(session, WebSession):
            return session
        owned = await self._owned(page, session, client_id)
        if owned is None:
            return _error(page, _NO_APP, 404)
        return await self._render_app(page, owned, chosen)

    async def _render_app(
        self, page: Page, owned: OwnedApp, chosen: str = "hour", message: str | None = None
    ) -> Response:
        client = owned.client
        charts, words = await usage_charts(self._usage, client.id, chosen)
        try:
            domain: str | None = (await self._partners.get(client.id)).domain
        except NotFound:
            domain = None
        now = self._clock.now()
        hooks = [] if self._webhooks is None else self._webhooks.endpoints(client.id)
        return page.render(
            "portal_app.html",
            200 if message is None else 400,
            csrf=page.csrf(),
            app=app_view(owned, now),
            domain=domain,
            webhooks=[{"id": h.id, "url": h.url, "created_at": stamp(h.created_at)} for h in hooks],
            webhooks_enabled=self._webhooks is not None,
            overlaps=OVERLAPS,
            charts=charts,
            range=chosen,
            range_words=words,
            message=message,
        )

    async def action(self, request: Request) -> Response:
        page = self._site.page(request)
        client_id = str(request.path_params["client_id"])
        form = await read_form(request)
        if not page.csrf_valid(form):
            return _error(page, _EXPIRED, 403)
        session = await self._session(page, f"{APPS_PATH}/{client_id}")
        if not isinstance(session, WebSession):
            return session
        owned = await self._owned(page, session, client_id)
        if owned is None:
            return _error(page, _NO_APP, 404)
        handler = {
            "rotate": self._rotate,
            "origins": self._origins,
            "domain": self._domain,
            "webhooks": self._add_webhook,
            "webhooks-delete": self._delete_webhook,
        }.get(str(request.path_params["action"]))
        if handler is None:
            return _error(page, "there is no such form in the developer portal", 404)
        try:
            return await handler(page, session, owned, form)
        except (ValidationFailed, Conflict, KeyRefused) as exc:
            return await self._render_app(page, owned, message=exc.description)
        except NotFound as exc:
            return _error(page, exc.description, 404)

    async def _rotate(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        try:
            overlap = int(form.get("overlap", "")[:8])
        except ValueError:
            raise ValidationFailed("choose when the old secret stops working") from None
        secret = await self._apps.rotate_secret(session.user_id, owned.client.id, overlap)
        stops = "at once" if overlap == 0 else f"in {overlap // 3600} h"
        note = f"The previous secret stops working {stops}: switch your app over before then."
        return await self._to_secret(
            page, session, owned.client.id, Reveal("New client secret", secret, note=note)
        )

    async def _origins(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        await self._apps.set_origins(session.user_id, owned.client.id, form.get("origins", ""))
        return page.redirect(f"{APPS_PATH}/{owned.client.id}")

    async def _domain(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        problem = await self._set_domain(owned.client.id, form.get("domain", "").strip())
        if problem is not None:
            return await self._render_app(page, owned, message=problem)
        return page.redirect(f"{APPS_PATH}/{owned.client.id}")

    async def _add_webhook(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        if self._webhooks is None:
            raise NotFound("webhooks are not served here")
        endpoint, secret = await self._webhooks.register(
            owned.client.id, form.get("url", "").strip()
        )
        reveal = Reveal(
            "Webhook signing secret",
            secret,
            label="Signing secret",
            webhook_url=endpoint.url,
            note="Deliveries to this URL are signed with this secret.",
        )
        return await self._to_secret(page, session, owned.client.id, reveal)

    async def _delete_webhook(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        if self._webhooks is None:
            raise NotFound("webhooks are not served here")
        await self._webhooks.delete(owned.client.id, form.get("endpoint_id", "")[:40])
        return page.redirect(f"{APPS_PATH}/{owned.client.id}")


def _error(page: Page, description: str, status: int) -> Response:
    """A refusal as a portal page, with the way back to the portal."""
    return error_page(page, _PORTAL, description, status)
