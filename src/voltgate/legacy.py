"""MIGRATION ONLY: the FastAPI app for the routes not yet on the route table (`LEGACY` in
`voltgate.dialects`). `create_app` puts it behind the pages and merges its paths into the
OpenAPI document. When LEGACY is empty, delete this module and the lines marked `LEGACY` in
`voltgate.app`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from voltgate.dialects import LEGACY
from voltgate.http.adapter import install_error_handlers
from voltgate.runtime import Runtime


def legacy_app(runtime: Runtime, dialects: list[str]) -> FastAPI | None:
    """The legacy routes of these dialects in a FastAPI app, or None when there are none."""
    app = FastAPI(
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime  # what the legacy handlers' `runtime(request)` reads
    install_error_handlers(app)
    for name in dialects:
        mount = LEGACY.get(name)
        if mount is not None:
            mount(app)
    return app if app.routes else None


def merge_openapi(ours: dict[str, Any], legacy: FastAPI) -> dict[str, Any]:
    """The legacy routes' paths under ours (ours win where both have a path)."""
    info = ours["info"]
    schema = get_openapi(
        title=info["title"],
        version=info["version"],
        description=info["description"],
        routes=legacy.routes,
    )
    schema["paths"].update(ours["paths"])
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(ours["components"]["schemas"])
    components["securitySchemes"] = ours["components"]["securitySchemes"]
    return schema
