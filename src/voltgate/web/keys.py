"""Virtual keys in the browser: `/_ak/<domain>`, where a signed-in owner adds the key of the app
registered at that domain to vehicles of theirs, in a role (as Tesla's app does for
`tesla.com/_ak/<domain>`), and the account page's list of each vehicle's keys with a Remove
button. HTTP only; the decisions are `virtualkeys.service`'s.

An app's key is offered only to owners who connected the app (gave it access): disconnecting
the app removes its keys again. Every form carries the CSRF token; a page is the sign-in page
first for a browser without a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from voltgate.errors import NotFound, ValidationFailed
from voltgate.identity.appkeys import fingerprint
from voltgate.identity.consent import Consents
from voltgate.identity.partners import PartnerAccount, Partners
from voltgate.virtualkeys.service import VirtualKeys
from voltgate.virtualkeys.store import ROLES, PairedKey
from voltgate.web.account import LOGIN_PATH
from voltgate.web.page import ACCOUNT_HOME, PAIR_PREFIX, Page, Site, read_form, stamp

PAIR_PATH = PAIR_PREFIX + "{domain}"
REMOVE_PATH = "/account/keys/remove"
DEFAULT_ROLE = "driver"
_ROLE_TEXT = {
    "owner": "Owner: everything the owner can do",
    "driver": "Driver: drive, climate, locks, charging",
    "fleet_manager": "Fleet manager: manage the vehicle for a fleet",
    "vehicle_monitor": "Vehicle monitor: read the vehicle's state only",
    "charging_manager": "Charging manager: charging only",
}
_EXPIRED = "the form has expired; reload the page"


@dataclass(frozen=True, slots=True)
class _App:
    account: PartnerAccount
    public_key: bytes
    name: str


class KeyPages:
    def __init__(
        self, site: Site, partners: Partners, keys: VirtualKeys, consents: Consents
    ) -> None:
        self._site = site
        self._partners = partners
        self._keys = keys
        self._consents = consents

    async def pair_page(self, request: Request) -> Response:
        page = self._site.page(request)
        domain = str(request.path_params["domain"])
        session = await self._site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={quote(PAIR_PREFIX + domain, safe='')}")
        app = await self._app(domain)
        if app is None:
            return _unknown(page, domain)
        return await self._render(page, session.user_id, app)

    async def pair(self, request: Request) -> Response:
        page = self._site.page(request)
        domain = str(request.path_params["domain"])
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", _EXPIRED, 403)
        session = await self._site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={quote(PAIR_PREFIX + domain, safe='')}")
        app = await self._app(domain)
        if app is None:
            return _unknown(page, domain)
        if not await self._connected(session.user_id, app):
            return await self._render(page, session.user_id, app)
        vins = [name.removeprefix("vin.") for name in form if name.startswith("vin.")]
        try:
            await self._keys.pair(
                session.user_id,
                app.account.client_id,
                app.public_key,
                vins,
                form.get("role", ""),
            )
        except (ValidationFailed, NotFound) as exc:
            return await self._render(page, session.user_id, app, exc.description, 400)
        return page.redirect(ACCOUNT_HOME)

    async def to_keys(self, request: Request) -> Response:
        """GET of the Remove form's URL (a reload, a bookmark): the account page's keys."""
        return self._site.page(request).redirect(f"{ACCOUNT_HOME}#keys")

    async def remove(self, request: Request) -> Response:
        page = self._site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", _EXPIRED, 403)
        session = await self._site.session(page)
        if session is None:
            return page.redirect(f"{LOGIN_PATH}?return_to={ACCOUNT_HOME}")
        try:
            point = bytes.fromhex(form.get("public_key", "")[:130])
            await self._keys.remove(
                session.user_id, form.get("vin", "")[:17], form.get("client_id", "")[:128], point
            )
        except ValueError:
            return page.error("invalid_request", "the key to remove is not a key", 400)
        except NotFound as exc:
            return page.error("not_found", exc.description, 404)
        return page.redirect(ACCOUNT_HOME)

    async def vehicle_keys(self, user_id: str) -> list[dict[str, Any]]:
        """The account page's rows: each of the user's vehicles with the keys it holds."""
        rows = []
        for vehicle, held in await self._keys.of_user(user_id):
            rows.append(
                {
                    "vin": vehicle.vin,
                    "name": vehicle.display_name,
                    "held": [await self._key_row(key) for key in held],
                }
            )
        return rows

    async def _key_row(self, key: PairedKey) -> dict[str, str]:
        client = await self._site.clients.get(key.client_id)
        return {
            "client_id": key.client_id,
            "app": client.name if client is not None else key.client_id,
            "public_key": key.public_key.hex(),
            "fingerprint": fingerprint(key.public_key),
            "role": key.role,
            "paired_at": stamp(key.paired_at),
        }

    async def _app(self, domain: str) -> _App | None:
        account = await self._partners.by_domain(domain[:253])
        if account is None or account.public_key is None:
            return None
        client = await self._site.clients.get(account.client_id)
        if client is None or client.disabled:
            return None
        return _App(account, account.public_key, client.name)

    async def _connected(self, user_id: str, app: _App) -> bool:
        return await self._consents.covers(user_id, app.account.client_id, ())

    async def _render(
        self,
        page: Page,
        user_id: str,
        app: _App,
        message: str | None = None,
        status: int = 200,
    ) -> Response:
        user = await self._site.users.get(user_id)
        connected = await self._connected(user_id, app)
        vehicles = []
        for vehicle, held in await self._keys.of_user(user_id):
            mine = next(
                (
                    k
                    for k in held
                    if k.client_id == app.account.client_id and k.public_key == app.public_key
                ),
                None,
            )
            vehicles.append(
                {
                    "vin": vehicle.vin,
                    "name": vehicle.display_name,
                    "role": None if mine is None else mine.role,
                }
            )
        return page.render(
            "pair.html",
            status if connected else 403,
            csrf=page.csrf(),
            user_email=user.email,
            app_name=app.name,
            domain=app.account.domain,
            fingerprint=fingerprint(app.public_key),
            connected=connected,
            vehicles=vehicles,
            roles=[(name, _ROLE_TEXT[name]) for name in ROLES],
            default_role=DEFAULT_ROLE,
            message=message,
        )


def _unknown(page: Page, domain: str) -> Response:
    return page.error(
        "not_found", f"no app has registered a public key for the domain {domain[:253]!r}", 404
    )
