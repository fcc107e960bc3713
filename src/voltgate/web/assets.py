"""Files a page loads, served by this server from the package (no CDN): each read once, on its
first request, kept in memory and, when large, kept gzip-compressed as well.

A page that links an asset by `Assets.url(name)` gets a URL carrying the file's digest, answered
with a year's immutable caching (a new file is a new URL); a plain URL gets a day's.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voltgate.errors import NotFound

JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
SVG = "image/svg+xml"
OWN = files("voltgate.web") / "static"
_DAY = "public, max-age=86400"
_IMMUTABLE = "public, max-age=31536000, immutable"
# Smaller files gain too little from compression to pay for the header and the CPU.
_COMPRESS_FROM = 8192


@dataclass(frozen=True, slots=True)
class Asset:
    source: Path | Traversable
    media: str
    rewrite: tuple[bytes, bytes] | None = None

    def read(self) -> bytes:
        body = self.source.read_bytes()
        return body if self.rewrite is None else body.replace(*self.rewrite)


@dataclass(frozen=True, slots=True)
class _Loaded:
    body: bytes
    gzipped: bytes | None
    digest: str


def _load(asset: Asset) -> _Loaded:
    body = asset.read()
    gzipped = gzip.compress(body, 6, mtime=0) if len(body) >= _COMPRESS_FROM else None
    return _Loaded(body, gzipped, hashlib.sha256(body).hexdigest()[:16])


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header (RFC 9110 §12.5.3) takes gzip: named (or `*`) with a
    weight above 0."""
    weights: dict[str, float] = {}
    for item in header.lower().split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights.setdefault(coding, weight)
    return weights.get("gzip", weights.get("*", 0.0)) > 0


class Assets:
    """The files under `prefix`/{name}: only those named in `catalogue` (404 for any other)."""

    def __init__(self, prefix: str, catalogue: Mapping[str, Asset]) -> None:
        self.prefix = prefix
        self._catalogue = dict(catalogue)
        self._loaded: dict[str, _Loaded] = {}

    def route(self) -> Route:
        return Route(self.prefix + "/{name}", self.serve, methods=["GET"])

    def url(self, name: str) -> str:
        """The path a page links `name` by: its digest in the query, so it can be kept a year."""
        return f"{self.prefix}/{name}?v={self._get(name).digest}"

    def _get(self, name: str) -> _Loaded:
        loaded = self._loaded.get(name)
        if loaded is None:
            loaded = self._loaded[name] = _load(self._catalogue[name])
        return loaded

    async def serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        asset = self._catalogue.get(name)
        if asset is None:
            raise NotFound("no such asset")
        loaded = self._loaded.get(name)
        if loaded is None:
            # Compressing GraphiQL's 3.5 MB bundle takes ~0.1 s: off the event loop.
            loaded = self._loaded[name] = await asyncio.to_thread(_load, asset)
        version = request.query_params.get("v")
        if version is not None and version != loaded.digest:
            raise NotFound("no such version of this asset")  # never cache another file's bytes
        headers = {
            "Cache-Control": _DAY if version is None else _IMMUTABLE,
            "X-Content-Type-Options": "nosniff",
        }
        body = loaded.body
        if loaded.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(request.headers.get("accept-encoding", "")):
                body, headers["Content-Encoding"] = loaded.gzipped, "gzip"
        return Response(body, media_type=asset.media, headers=headers)
