"""The browser side of delegated access as plain Starlette routes: the authorization endpoint at
every dialect's path, sign-in, consent, the user's connected apps and their vehicles' keys, the
key-pairing page, their stylesheet, and the users' pictures. Each page URL answers every method
with a page (`web.methods`): a form's URL opened by GET leads to its page, a wrong method is an
HTML 405 with Allow.

`Pages` is built once at start-up from the identity services, the crypto and the clock; its
routes are bound methods, nothing is looked up per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from voltgate.clock import Clock
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.consent import Consents
from voltgate.identity.delegation import Delegation
from voltgate.identity.partners import Partners
from voltgate.identity.profiles import CORE, Profile
from voltgate.identity.secrets import Crypto
from voltgate.identity.users import Users
from voltgate.portal.reveals import Reveals
from voltgate.portal.service import DeveloperApps, UsageRecorder
from voltgate.virtualkeys.service import VirtualKeys
from voltgate.web.account import LOGIN_PATH, Account
from voltgate.web.authorize import DECISION_PATH, Authorize
from voltgate.web.avatar import AVATAR_PATH, avatar
from voltgate.web.favicon import FAVICON_PATH, favicon
from voltgate.web.keys import PAIR_PATH, REMOVE_PATH, KeyPages
from voltgate.web.methods import Back, page_route
from voltgate.web.page import ACCOUNT_HOME, Site
from voltgate.web.portal import PortalPages
from voltgate.web.session import BrowserState
from voltgate.webhooks.service import Webhooks

AUTHORIZE_PATH = "/oauth/authorize"
STYLESHEET_PATH = "/assets/voltgate.css"
_CSS = (files("voltgate.web") / "static" / "voltgate.css").read_bytes()
_CSS_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
# Where each area's error pages lead back to (none from the authorization flow: back to the app).
_AUTHORIZATION = Back("Authorization")
_SIGN_IN = Back("Sign in", LOGIN_PATH, "Go to the sign-in page")
_ACCOUNT = Back("Your account", ACCOUNT_HOME, "Back to your connected apps")
_RESTART = (
    "this consent page can't be reloaded or opened from a link; go back to the app and "
    "start again from there"
)


async def stylesheet(_request: Request) -> Response:
    return Response(_CSS, media_type="text/css", headers=_CSS_HEADERS)


class Pages:
    def __init__(
        self,
        *,
        clients: ClientRegistry,
        users: Users,
        consents: Consents,
        delegation: Delegation,
        partners: Partners,
        keys: VirtualKeys,
        crypto: Crypto,
        clock: Clock,
        issuer: str,
        environment: str,
        authorize_paths: Mapping[str, Profile] | None = None,
        developer_apps: DeveloperApps | None = None,
        usage: UsageRecorder | None = None,
        reveals: Reveals | None = None,
        webhooks: Webhooks | None = None,
    ) -> None:
        """`authorize_paths`: the dialects' authorization endpoints, each with its rules;
        with `developer_apps`, `usage` and `reveals`, the developer portal too."""
        profiles = {AUTHORIZE_PATH: CORE, **(authorize_paths or {})}
        self.authorize_paths = tuple(profiles)
        browser = BrowserState(crypto, clock)
        self._site = site = Site(
            browser, users, clients, environment, frozenset(self.authorize_paths)
        )
        self.authorization = Authorize(site, consents, delegation, clock, issuer, profiles)
        self.keys = KeyPages(site, partners, keys, consents)
        self.account = Account(site, consents, self.keys.vehicle_keys)
        self.portal = (
            None
            if developer_apps is None or usage is None or reveals is None
            else PortalPages(site, developer_apps, usage, reveals, partners, webhooks, clock)
        )

    def routes(self) -> list[BaseRoute]:
        authorization, account, keys, site = self.authorization, self.account, self.keys, self._site
        return [
            *(
                page_route(p, site, _AUTHORIZATION, get=authorization.authorize)
                for p in self.authorize_paths
            ),
            page_route(
                DECISION_PATH, site, _AUTHORIZATION, post=authorization.decision, opened=_RESTART
            ),
            page_route(LOGIN_PATH, site, _SIGN_IN, get=account.login_page, post=account.login),
            page_route("/logout", site, _ACCOUNT, get=account.logout_page, post=account.logout),
            page_route(ACCOUNT_HOME, site, _ACCOUNT, get=account.apps),
            page_route(
                f"{ACCOUNT_HOME}/revoke", site, _ACCOUNT, get=account.to_apps, post=account.revoke
            ),
            page_route(PAIR_PATH, site, _ACCOUNT, get=keys.pair_page, post=keys.pair),
            page_route(REMOVE_PATH, site, _ACCOUNT, get=keys.to_keys, post=keys.remove),
            Route(STYLESHEET_PATH, stylesheet, methods=["GET"]),
            Route(FAVICON_PATH, favicon, methods=["GET"]),
            Route(AVATAR_PATH, avatar, methods=["GET"]),
            *(self.portal.routes() if self.portal is not None else ()),
        ]
