"""The Tellus Open Platform's answers: every success is `{code: 0, message: "success", data}`;
lists are pages `{items, page, size, total}` (`?page=&size=`, size at most 100) or, where a
list may grow while it is walked, cursor slices (`pagination.SliceView`). Errors are
`errors.TELLUS_ERRORS`.

The envelope is generic, so each route's OpenAPI success schema names its exact `data`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.pagination import DEFAULT_SIZE, MAX_PAGE, MAX_SIZE, Page

T = TypeVar("T")
R = TypeVar("R")


class Envelope(TypedDict, Generic[T]):
    code: Literal[0]
    message: Literal["success"]
    data: T


class TellusPage(TypedDict, Generic[T]):
    items: list[T]
    page: int
    size: int
    total: int


class PageQuery(BaseModel):
    """`?page=&size=` of every Tellus list: out of range is 400 code 1002, never clamped."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="1-based page number")
    size: int = Field(
        default=DEFAULT_SIZE, ge=1, le=MAX_SIZE, description=f"rows a page, at most {MAX_SIZE}"
    )


def envelope(data: T) -> Envelope[T]:
    return {"code": 0, "message": "success", "data": data}


def page(found: Page[R], view: Callable[[R], T]) -> TellusPage[T]:
    items = [view(item) for item in found.items]
    return {"items": items, "page": found.page, "size": found.size, "total": found.total}


def paged(found: Page[R], view: Callable[[R], T]) -> Envelope[TellusPage[T]]:
    return envelope(page(found, view))
