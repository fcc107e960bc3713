"""List windows shared by every domain: Tellus page/size and voltgate's opaque cursors.

Both page through one operator's rows in id order (prefixed ULIDs, so roughly creation order):
a page is an offset window with a total; a cursor is the last id seen, so a slice stays correct
while rows are added, and never costs a count.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from typing_extensions import TypedDict

from voltgate.errors import ValidationFailed

T = TypeVar("T")
V = TypeVar("V")

MAX_SIZE = 100
# The highest page number a list accepts: (page - 1) * size stays far inside a 64-bit offset.
MAX_PAGE = 1_000_000_000
DEFAULT_SIZE = 20
DEFAULT_LIMIT = 50
_CURSOR_TAG = "v1:"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    items: list[T]
    next_cursor: str | None


class SliceView(TypedDict, Generic[V]):
    """A slice as JSON: `next_cursor` is null at the end."""

    items: list[V]
    next_cursor: str | None


def slice_view(part: Slice[T], view: Callable[[T], V]) -> SliceView[V]:
    return {"items": [view(item) for item in part.items], "next_cursor": part.next_cursor}


def check_size(size: int, name: str = "size") -> None:
    if not 1 <= size <= MAX_SIZE:
        raise ValidationFailed(f"{name} must be between 1 and {MAX_SIZE}")


def offset_of(page: int, size: int) -> int:
    """The offset of `page` (1-based) of `size` rows; both validated."""
    if page < 1:
        raise ValidationFailed("page must be 1 or more")
    check_size(size)
    return (page - 1) * size


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_TAG + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id a cursor points after, or None for the first slice."""
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR_TAG) or len(text) > 200:
        raise ValidationFailed("cursor is not one this API returned")
    return text[len(_CURSOR_TAG) :]


def slice_of(rows: list[T], limit: int, key: Callable[[T], str]) -> Slice[T]:
    """`rows` fetched with limit + 1: the extra row only says that there is a next slice."""
    if len(rows) <= limit:
        return Slice(rows, None)
    items = rows[:limit]
    return Slice(items, encode_cursor(key(items[-1])))
