"""The users' pictures: an identicon per digest, the same on every request, cacheable, and
nothing but an SVG for a well-formed digest."""

from __future__ import annotations

import pytest

from tests.conftest import App
from voltgate.identity.oidc import picture_url


async def test_a_users_picture_is_a_stable_cacheable_svg(app: App) -> None:
    issuer = app.rt.settings.issuer
    path = picture_url(issuer, "user_01").removeprefix(issuer)
    first, second = await app.http.get(path), await app.http.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/svg+xml"
    assert "max-age=86400" in first.headers["cache-control"]
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.content == second.content and first.text.startswith("<svg ")
    other = await app.http.get(picture_url(issuer, "user_02").removeprefix(issuer))
    assert other.status_code == 200 and other.content != first.content


@pytest.mark.parametrize("digest", ["0" * 31, "0" * 33, "G" * 32, "A" * 32, "..%2f" + "0" * 27])
async def test_anything_but_a_digest_is_404(app: App, digest: str) -> None:
    response = await app.http.get(f"/avatars/{digest}.svg")
    assert response.status_code == 404
