"""A page URL answers every method with a page, never an API error: a form's URL opened by GET
(a reload, a bookmark, a pasted link) is sent to its page or told what to do, and any other
method gets an HTML 405 naming the methods in Allow.

The API paths (/oauth/token, /api/…, the dialects') keep their JSON and RFC bodies: only the
routes built here, the browser's, take every method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voltgate.web.page import Page, Site

Endpoint = Callable[[Request], Awaitable[Response]]
# Starlette adds HEAD to a route with GET. OPTIONS stays with the router (its own 405).
ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class Back:
    """Where an error page of an area leads back to, and the area's title."""

    title: str
    href: str | None = None
    text: str = ""


def error_page(
    page: Page, back: Back, description: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    """A refusal as a page of its area, with the way back."""
    return page.render(
        "page_error.html",
        status,
        headers=headers,
        title=back.title,
        description=description,
        back_href=back.href,
        back_text=back.text,
    )


def page_route(
    path: str,
    site: Site,
    back: Back,
    *,
    get: Endpoint | None = None,
    post: Endpoint | None = None,
    opened: str | None = None,
) -> Route:
    """`path` served by `get` (GET and HEAD) and `post`; every other method, and a GET where
    there is no `get`, is an HTML 405 in `back`'s area. `opened`: what that GET page says."""
    allow = ", ".join([*(("GET", "HEAD") if get else ()), *(("POST",) if post else ())])
    refused = f"this page takes {allow} only"

    async def endpoint(request: Request) -> Response:
        method = request.method
        if get is not None and method in ("GET", "HEAD"):
            return await get(request)
        if post is not None and method == "POST":
            return await post(request)
        said = opened if opened and method in ("GET", "HEAD") else refused
        return error_page(site.page(request), back, said, 405, {"Allow": allow})

    return Route(path, endpoint, methods=ANY)
