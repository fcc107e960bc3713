"""The developer portal in the browser: a signed-in user registers apps, sees a client id and
secret once, rotates the secret with an overlap, sets allowed origins, the public-key domain
and webhook URLs, and reads each app's usage as charts. HTTP only: the decisions are
`portal.service`'s, `identity.partners`' and `webhooks.service`'s.

Every form carries the CSRF token; every page is the sign-in page first for a browser without
a session; another developer's app is answered as one that does not exist (404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.appkeys import KeyRefused
from voltgate.identity.consent import CONSENT_SCOPES, describe_scope
from voltgate.identity.partners import Partners
from voltgate.portal.service import DeveloperApps, OwnedApp, UsageRecorder
from voltgate.portal.store import PRODUCTION, SANDBOX
from voltgate.web.account import LOGIN_PATH
from voltgate.web.charts import bar_chart
from voltgate.web.page import PORTAL_HOME, Page, Site, read_form, stamp
from voltgate.web.session import WebSession
from voltgate.webhooks.service import Webhooks

APPS_PATH = f"{PORTAL_HOME}/apps"
NEW_PATH = f"{APPS_PATH}/new"
_EXPIRED = "the form has expired; reload the page"
_KINDS = (
    ("third_party", "Web or server app: keeps a client secret"),
    ("open_source", "Public app (mobile, desktop, single-page): no secret, PKCE only"),
)
_STAGES = (
    (SANDBOX, "Sandbox: live at once, for building and testing"),
    (PRODUCTION, "Production: live once an administrator approves it"),
)
_OVERLAPS = (
    (3_600, "After 1 hour"),
    (86_400, "After 24 hours"),
    (604_800, "After 7 days"),
    (0, "At once"),
)
# range → (seconds per bar, bars, words)
_RANGES = {"hour": (60, 60, "per minute, last hour"), "day": (3_600, 24, "per hour, last 24 h")}
_CHARTS = (
    ("requests", "Requests", "requests"),
    ("tokens", "Tokens issued", "tokens"),
    ("limited", "Rate-limit hits", "limited"),
    ("errors", "Errors", "errors"),
)


def _status(owned: OwnedApp) -> str:
    if owned.client.disabled:
        return "Disabled"
    return "Waiting for approval" if owned.client.awaiting_approval else "Live"


class PortalPages:
    def __init__(
        self,
        site: Site,
        apps: DeveloperApps,
        usage: UsageRecorder,
        partners: Partners,
        webhooks: Webhooks | None,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._site = site
        self._apps = apps
        self._usage = usage
        self._partners = partners
        self._webhooks = webhooks

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PORTAL_HOME, self.home, methods=["GET"]),
            Route(NEW_PATH, self.new_page, methods=["GET"]),
            Route(APPS_PATH, self.register, methods=["POST"]),
            Route(APPS_PATH + "/{client_id}", self.app_page, methods=["GET"]),
            Route(APPS_PATH + "/{client_id}/{action}", self.action, methods=["POST"]),
        ]

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
                "status": _status(o),
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
        self, page: Page, form: dict[str, str], message: str | None = None, status: int = 200
    ) -> Response:
        chosen = {name.removeprefix("scope.") for name in form if name.startswith("scope.")}
        return page.render(
            "portal_new.html",
            status,
            csrf=page.csrf(),
            form=form,
            kinds=_KINDS,
            stages=_STAGES,
            scopes=[(s, describe_scope(s), s in chosen) for s in CONSENT_SCOPES],
            message=message,
        )

    async def register(self, request: Request) -> Response:
        page = self._site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", _EXPIRED, 403)
        session = await self._session(page, NEW_PATH)
        if not isinstance(session, WebSession):
            return session
        try:
            registered = await self._apps.register(
                session.user_id,
                name=form.get("name", "")[:200],
                kind=form.get("kind", ""),
                scopes=[n.removeprefix("scope.") for n in form if n.startswith("scope.")],
                redirect_uris=form.get("redirect_uris", ""),
                allowed_origins=form.get("allowed_origins", ""),
                stage=form.get("stage", ""),
            )
        except ValidationFailed as exc:
            return self._form(page, form, exc.description, 400)
        client = registered.owned.client
        warning = await self._set_domain(client.id, form.get("domain", "").strip())
        return self._secret_page(
            page,
            registered.owned,
            "Your app's credentials",
            registered.secret,
            201,
            warning=warning,
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

    def _secret_page(
        self,
        page: Page,
        owned: OwnedApp,
        heading: str,
        secret: str | None,
        status: int = 200,
        *,
        secret_label: str = "Client secret",  # noqa: S107 - a label, not a secret
        warning: str | None = None,
        note: str | None = None,
    ) -> Response:
        return page.render(
            "portal_secret.html",
            status,
            heading=heading,
            name=owned.client.name,
            client_id=owned.client.id,
            secret=secret,
            secret_label=secret_label,
            waiting=owned.client.awaiting_approval,
            warning=warning,
            note=note,
        )

    async def _owned(self, page: Page, session: WebSession, client_id: str) -> OwnedApp | None:
        try:
            return await self._apps.owned(session.user_id, client_id)
        except NotFound:
            return None

    async def app_page(self, request: Request) -> Response:
        page = self._site.page(request)
        client_id = str(request.path_params["client_id"])
        chosen = request.query_params.get("range", "hour")
        chosen = chosen if chosen in _RANGES else "hour"
        back = f"{APPS_PATH}/{client_id}" + ("?range=day" if chosen == "day" else "")
        session = await self._session(page, back)
        if not isinstance(session, WebSession):
            return session
        owned = await self._owned(page, session, client_id)
        if owned is None:
            return page.error("not_found", "you have no app with this client id", 404)
        return await self._render_app(page, owned, chosen)

    async def _render_app(
        self, page: Page, owned: OwnedApp, chosen: str = "hour", message: str | None = None
    ) -> Response:
        client = owned.client
        step, points, words = _RANGES[chosen]
        start, series = await self._usage.series(client.id, step, points)
        charts = [
            {
                "title": title,
                "total": sum(series[name]),
                "svg": bar_chart(f"{title} {words}", css, series[name], start, step),
            }
            for name, title, css in _CHARTS
        ]
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
            app=self._view(owned, now),
            domain=domain,
            webhooks=[{"id": h.id, "url": h.url, "created_at": stamp(h.created_at)} for h in hooks],
            webhooks_enabled=self._webhooks is not None,
            overlaps=_OVERLAPS,
            charts=charts,
            range=chosen,
            range_words=words,
            message=message,
        )

    @staticmethod
    def _view(owned: OwnedApp, now: float) -> dict[str, Any]:
        client = owned.client
        return {
            "client_id": client.id,
            "name": client.name,
            "kind": client.kind.value,
            "public": client.kind.is_public,
            "stage": owned.app.stage,
            "status": _status(owned),
            "scopes": [(s, describe_scope(s)) for s in client.scopes],
            "redirect_uris": client.redirect_uris,
            "origins": owned.app.allowed_origins,
            "secrets": [
                {
                    "id": s.id,
                    "created_at": stamp(s.created_at),
                    "expires_at": "never" if s.expires_at is None else stamp(s.expires_at),
                    "active": s.valid_at(now),
                }
                for s in client.secrets
            ],
        }

    async def action(self, request: Request) -> Response:
        page = self._site.page(request)
        client_id = str(request.path_params["client_id"])
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", _EXPIRED, 403)
        session = await self._session(page, f"{APPS_PATH}/{client_id}")
        if not isinstance(session, WebSession):
            return session
        owned = await self._owned(page, session, client_id)
        if owned is None:
            return page.error("not_found", "you have no app with this client id", 404)
        handler = {
            "rotate": self._rotate,
            "origins": self._origins,
            "domain": self._domain,
            "webhooks": self._add_webhook,
            "webhooks-delete": self._delete_webhook,
        }.get(str(request.path_params["action"]))
        if handler is None:
            return page.error("not_found", "no such action", 404)
        try:
            return await handler(page, session, owned, form)
        except (ValidationFailed, Conflict, KeyRefused) as exc:
            return await self._render_app(page, owned, message=exc.description)
        except NotFound as exc:
            return page.error("not_found", exc.description, 404)

    async def _rotate(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        try:
            overlap = int(form.get("overlap", "")[:8])
        except ValueError:
            raise ValidationFailed("choose when the old secret stops working") from None
        secret = await self._apps.rotate_secret(session.user_id, owned.client.id, overlap)
        stops = "at once" if overlap == 0 else f"in {overlap // 3600} h"
        return self._secret_page(
            page,
            owned,
            "New client secret",
            secret,
            note=f"The previous secret stops working {stops}: switch your app over before then.",
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
        return self._secret_page(
            page,
            owned,
            "Webhook signing secret",
            secret,
            secret_label=f"Signing secret for {endpoint.url}",
            note="Deliveries to this URL are signed with this secret.",
        )

    async def _delete_webhook(
        self, page: Page, session: WebSession, owned: OwnedApp, form: dict[str, str]
    ) -> Response:
        if self._webhooks is None:
            raise NotFound("webhooks are not served here")
        await self._webhooks.delete(owned.client.id, form.get("endpoint_id", "")[:40])
        return page.redirect(f"{APPS_PATH}/{owned.client.id}")
