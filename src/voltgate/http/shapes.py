"""Response shapes the domains' routers share: the Tellus `{code, message, data}` envelope and
page, voltgate's cursor slice, and a router whose errors render as Tellus envelopes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

from voltgate.errors import tellus_body
from voltgate.http.adapter import RENDER_KEY, set_renderer
from voltgate.pagination import MAX_SIZE, Page, Slice

T = TypeVar("T")
View = Callable[[T], dict[str, Any]]

# Query parameters of list routes: out of range is 400 (Tellus code 1002), never clamped.
PageNumber = Annotated[int, Query(ge=1, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=MAX_SIZE, description=f"rows a page, at most {MAX_SIZE}")]
Limit = Annotated[int, Query(ge=1, le=MAX_SIZE, description=f"rows, at most {MAX_SIZE}")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` of the previous response")
]


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def tellus_page(page: Page[T], view: View[T]) -> dict[str, Any]:
    items = [view(item) for item in page.items]
    return envelope({"items": items, "page": page.page, "size": page.size, "total": page.total})


def cursor_slice(part: Slice[T], view: View[T]) -> dict[str, Any]:
    return {"items": [view(item) for item in part.items], "next_cursor": part.next_cursor}


class _TellusRoute(APIRoute):
    """Picks the Tellus renderer before FastAPI reads the body, so a body that is not JSON
    (refused before any dependency runs) is answered in the envelope too."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            request.scope[RENDER_KEY] = tellus_body
            return await handler(request)

        return route


def tellus_router(**options: Any) -> APIRouter:
    """An APIRouter whose errors render as `{code, message, data: null}`."""
    return APIRouter(
        dependencies=[Depends(set_renderer(tellus_body))], route_class=_TellusRoute, **options
    )
