"""`/favicon.ico`, which every browser asks for: a 32 by 32 icon (the brand's green, a white bolt)
drawn here once at import as an ICO holding a 32-bit bitmap, so there is no binary file to keep.
"""

from __future__ import annotations

import struct

from starlette.requests import Request
from starlette.responses import Response

FAVICON_PATH = "/favicon.ico"
MEDIA = "image/vnd.microsoft.icon"  # the IANA name; browsers take image/x-icon alike
_SIZE = 32
_GREEN = (0x52, 0x7D, 0x0A, 0xFF)  # BGRA of the stylesheet's --accent, #0a7d52
_WHITE = (0xFF, 0xFF, 0xFF, 0xFF)
_CLEAR = (0, 0, 0, 0)
_BOLT = ((19.0, 3.0), (7.0, 18.0), (15.0, 18.0), (12.0, 29.0), (25.0, 13.0), (17.0, 13.0))
_RADIUS = 6.0
_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


def _inside(x: float, y: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd rule: a ray from (x, y) to the right crosses the outline an odd number of times."""
    crossings = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings = not crossings
    return crossings


def _in_rounded_square(x: float, y: float) -> bool:
    near_x = min(max(x, _RADIUS), _SIZE - _RADIUS)
    near_y = min(max(y, _RADIUS), _SIZE - _RADIUS)
    return (x - near_x) ** 2 + (y - near_y) ** 2 <= _RADIUS**2


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    cx, cy = x + 0.5, y + 0.5
    if not _in_rounded_square(cx, cy):
        return _CLEAR
    return _WHITE if _inside(cx, cy, _BOLT) else _GREEN


def icon() -> bytes:
    """ICONDIR, one ICONDIRENTRY, then a BITMAPINFOHEADER, bottom-up BGRA rows and the AND mask
    (all zero: the alpha channel says what is transparent)."""
    rows = b"".join(
        bytes(channel for x in range(_SIZE) for channel in _pixel(x, y))
        for y in reversed(range(_SIZE))
    )
    mask = bytes(_SIZE * _SIZE // 8)  # 1 bit a pixel; 32-pixel rows are already 4-byte aligned
    info = struct.pack(
        "<IiiHHIIiiII", 40, _SIZE, 2 * _SIZE, 1, 32, 0, len(rows) + len(mask), 0, 0, 0, 0
    )
    image = info + rows + mask
    entry = struct.pack("<BBBBHHII", _SIZE, _SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


_ICON = icon()


async def favicon(_request: Request) -> Response:
    return Response(_ICON, media_type=MEDIA, headers=_HEADERS)
