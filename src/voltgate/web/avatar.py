"""The users' pictures (`picture`, Tesla's `profile_image_url`): a 5 by 5 mirrored identicon drawn
from the digest in the path (`identity.oidc.picture_url`), the same forever, nothing stored."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from voltgate.identity.oidc import AVATARS

AVATAR_PATH = f"{AVATARS}/{{digest}}.svg"
_DIGEST = re.compile(r"^[0-9a-f]{32}$")
_HEADERS = {
    "Cache-Control": "public, max-age=86400, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
}


def identicon(digest: str) -> bytes:
    """Cells from the digest's bits (the left three columns, mirrored), the colour from its
    last bytes; `digest` is 32 hex digits."""
    bits = int(digest, 16)
    hue = int(digest[-4:], 16) % 360
    cells = [
        f'<rect x="{x * 10 + 10}" y="{y * 10 + 10}" width="10" height="10"/>'
        for y in range(5)
        for column in range(3)
        if bits >> (y * 3 + column) & 1
        for x in {column, 4 - column}
    ]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 70 70" width="140" height="140">'
        '<rect width="70" height="70" fill="#f2f2f2"/>'
        f'<g fill="hsl({hue},55%,45%)">{"".join(cells)}</g></svg>'
    ).encode()


async def avatar(request: Request) -> Response:
    digest = request.path_params["digest"]
    if not _DIGEST.match(digest):
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(identicon(digest), media_type="image/svg+xml", headers=_HEADERS)
