"""What the developer portal's pages show of an app: its status, its fields and secrets (never
a secret's value), and its usage as charts; and the choices its forms offer."""

from __future__ import annotations

from typing import Any

from voltgate.identity.consent import describe_scope
from voltgate.portal.service import OwnedApp, UsageRecorder
from voltgate.portal.store import PRODUCTION, SANDBOX
from voltgate.web.charts import bar_chart
from voltgate.web.page import stamp

KINDS = (
    ("third_party", "Web or server app: keeps a client secret"),
    ("open_source", "Public app (mobile, desktop, single-page): no secret, PKCE only"),
)
STAGES = (
    (SANDBOX, "Sandbox: live at once, for building and testing"),
    (PRODUCTION, "Production: live once an administrator approves it"),
)
OVERLAPS = (
    (3_600, "After 1 hour"),
    (86_400, "After 24 hours"),
    (604_800, "After 7 days"),
    (0, "At once"),
)
# range → (seconds per bar, bars, words)
RANGES = {"hour": (60, 60, "per minute, last hour"), "day": (3_600, 24, "per hour, last 24 h")}
_CHARTS = (
    ("requests", "Requests", "requests"),
    ("tokens", "Tokens issued", "tokens"),
    ("limited", "Rate-limit hits", "limited"),
    ("errors", "Errors", "errors"),
)


def status_of(owned: OwnedApp) -> str:
    if owned.client.disabled:
        return "Disabled"
    return "Waiting for approval" if owned.client.awaiting_approval else "Live"


def app_view(owned: OwnedApp, now: float) -> dict[str, Any]:
    client = owned.client
    return {
        "client_id": client.id,
        "name": client.name,
        "kind": client.kind.value,
        "public": client.kind.is_public,
        "stage": owned.app.stage,
        "status": status_of(owned),
        "scopes": [(s, describe_scope(s)) for s in client.scopes],
        "redirect_uris": client.redirect_uris,
        "origins": owned.app.allowed_origins,
        "secrets": [
            {
                "id": s.id,
                "created_at": stamp(s.created_at),
                "expires_at": "never" if s.expires_at is None else stamp(s.expires_at),
                "active": s.valid_at(now),
            }
            for s in client.secrets
        ],
    }


async def usage_charts(
    usage: UsageRecorder, client_id: str, chosen: str
) -> tuple[list[dict[str, Any]], str]:
    """The app's charts over the range `chosen` (a key of RANGES), and the range in words."""
    step, points, words = RANGES[chosen]
    start, series = await usage.series(client_id, step, points)
    charts = [
        {
            "title": title,
            "total": sum(series[name]),
            "svg": bar_chart(f"{title} {words}", css, series[name], start, step),
        }
        for name, title, css in _CHARTS
    ]
    return charts, words
