"""The authorization endpoint (RFC 6749 §4.1.1) and the consent decision: sign in if needed,
ask for consent if not yet given, redirect back with a code or an error. HTTP only; the
decisions are the identity core's."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from voltgate.clock import Clock
from voltgate.identity.authorize import (
    AuthorizationRequest,
    RedirectError,
    UntrustedRequest,
    redirect_to,
    validate,
)
from voltgate.identity.consent import Consents, describe_scope
from voltgate.identity.delegation import Delegation
from voltgate.identity.profiles import CORE, Profile
from voltgate.web.page import Page, Site, origin_source, query_params, read_form
from voltgate.web.session import WebSession

DECISION_PATH = "/oauth/authorize/decision"
_EXPIRED = "the form has expired; start again from the app"


class Authorize:
    def __init__(
        self,
        site: Site,
        consents: Consents,
        delegation: Delegation,
        clock: Clock,
        issuer: str,
        profiles: Mapping[str, Profile],
    ) -> None:
        self._site = site
        self._profiles = profiles  # by path
        self._consents = consents
        self._delegation = delegation
        self._clock = clock
        self._issuer = issuer

    async def authorize(self, request: Request) -> Response:
        site = self._site
        page = site.page(request)
        try:
            profile = self._profiles.get(request.url.path, CORE)
            auth = await validate(query_params(request), site.clients, profile)
        except UntrustedRequest as exc:
            return page.error(exc.error, exc.description)
        except RedirectError as exc:
            return self._redirect_error(page, exc)
        session = await site.session(page)
        if (
            session is None
            or auth.wants("login")
            or auth.wants("select_account")
            or self._too_old(auth, session)
        ):
            if auth.wants("none"):
                return self._refuse(page, auth, "login_required", "the user is not signed in")
            return page.render(
                "login.html",
                form_targets=origin_source(auth.redirect_uri),
                csrf=page.csrf(),
                return_to=f"{request.url.path}?{auth.resume_query()}",
                app_name=auth.client.name,
                email="",
                message=None,
            )
        if auth.wants("consent") or not await self._consents.covers(
            session.user_id, auth.client.id, auth.scopes
        ):
            if auth.wants("none"):
                return self._refuse(page, auth, "consent_required", "the user has not consented")
            return await self._consent_page(page, auth, session)
        return await self._approve(page, auth, session)

    async def decision(self, request: Request) -> Response:
        site = self._site
        page = site.page(request)
        form = await read_form(request)
        if not page.csrf_valid(form):
            return page.error("invalid_request", _EXPIRED, 403)
        session = await site.session(page)
        params = site.browser.open_request(form.get("request"), session) if session else None
        if session is None or params is None:
            return page.error("invalid_request", _EXPIRED)
        try:
            auth = await validate(params, site.clients)
        except UntrustedRequest as exc:
            return page.error(exc.error, exc.description)
        except RedirectError as exc:
            return self._redirect_error(page, exc)
        choice = form.get("decision")
        if choice == "deny":
            return self._refuse(page, auth, "access_denied", "the user denied the request")
        if choice != "allow":
            return page.error("invalid_request", "choose Allow or Deny")
        await self._consents.grant(session.user_id, auth.client.id, auth.scopes)
        return await self._approve(page, auth, session)

    def _too_old(self, auth: AuthorizationRequest, session: WebSession) -> bool:
        return auth.max_age is not None and self._clock.now() - session.auth_time > auth.max_age

    async def _consent_page(
        self, page: Page, auth: AuthorizationRequest, session: WebSession
    ) -> Response:
        user = await self._site.users.get(session.user_id)
        redirect = urlsplit(auth.redirect_uri)
        return page.render(
            "consent.html",
            form_targets=origin_source(auth.redirect_uri),
            csrf=page.csrf(),
            sealed_request=self._site.browser.seal_request(auth.params, session),
            app_name=auth.client.name,
            user_email=user.email,
            scopes=[(s, describe_scope(s)) for s in auth.scopes],
            redirect_host=redirect.netloc or redirect.scheme,
        )

    async def _approve(
        self, page: Page, auth: AuthorizationRequest, session: WebSession
    ) -> Response:
        code = await self._delegation.issue_code(
            client=auth.client,
            user_id=session.user_id,
            redirect_uri=auth.redirect_uri,
            scopes=auth.scopes,
            auth_time=session.auth_time,
            nonce=auth.nonce,
            code_challenge=auth.code_challenge,
        )
        location = redirect_to(
            auth.redirect_uri, {"code": code, "state": auth.state, "iss": self._issuer}
        )
        return page.redirect(location, 302)

    def _refuse(
        self, page: Page, auth: AuthorizationRequest, error: str, description: str
    ) -> Response:
        exc = RedirectError(error, description, auth.redirect_uri, auth.state)
        return self._redirect_error(page, exc)

    def _redirect_error(self, page: Page, exc: RedirectError) -> Response:
        location = redirect_to(
            exc.redirect_uri,
            {
                "error": exc.error,
                "error_description": exc.description,
                "state": exc.state,
                "iss": self._issuer,
            },
        )
        return page.redirect(location, 302)
