"""Pulse's pages, rendered on its side: the sign-in page and the dashboard (plots of state of
charge and charging power, energy per day, alerts, the commands pulse sent)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import timedelta
from html import escape

from voltgate.pulse.charts import bar_chart, line_chart
from voltgate.pulse.rules import Engine
from voltgate.pulse.store import PulseStore

# On a phone (below 600 px) a table row becomes a block of "label value" lines: five columns of
# VINs, times and JSON bodies do not fit 390 px side by side.
_STYLE = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem;color:#111;
overflow-wrap:break-word}
h1{font-size:1.4rem}section{margin:1.2rem 0}svg.plot{display:block;width:100%;height:auto;
border:1px solid #ddd}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left;overflow-wrap:anywhere}
.alert-idle_drain{color:#b45309}.alert-stopped_early{color:#b91c1c}a.button{background:#2563eb;
color:#fff;padding:.6rem 1rem;border-radius:.3rem;text-decoration:none}
.off{background:#fef3c7;border-left:4px solid #b45309;padding:.5rem .8rem}
@media (max-width:600px){
body{padding:.75rem}thead{display:none}table,tbody,tr,td{display:block}
tr{border-bottom:1px solid #ddd;padding:.3rem 0}
td{border:0;padding:.1rem 0;display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem}
td::before{content:attr(data-label);color:#555}td[colspan]{display:block}
td[colspan]::before{content:none}
}
"""
WINDOW = 24 * 3600
DAYS = 14


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


_PASTE = (
    "<p>This app's redirect URI is another page (the sandbox's callback): after you allow "
    "access there, paste the code and state it shows.</p>"
    '<form action="/callback" method="get"><p><label>Code <input name="code" required></label> '
    '<label>State <input name="state"></label> <button type="submit">Finish signing in</button>'
    "</p></form>"
)


def sign_in_page(server: str, error: str | None = None, pasted: bool = False) -> bytes:
    problem = f'<p role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "voltgate pulse",
        f"<h1>voltgate pulse</h1>{problem}<p>Charge rules, preconditioning and alerts for your "
        f"vehicles on {escape(server)}.</p>"
        f'<p><a class="button" href="/login">Sign in with voltgate</a></p>'
        f"{_PASTE if pasted else ''}",
    )


def stale_page(reason: str) -> bytes:
    """A callback whose sign-in pulse does not hold, while pulse is signed in already."""
    return _page(
        "voltgate pulse",
        f'<h1>voltgate pulse</h1><p role="alert">Nothing to finish: {escape(reason)}.</p>'
        '<p>Pulse is signed in: <a class="button" href="/">Open the dashboard</a></p>',
    )


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def _table(
    headings: tuple[str, ...], rows: list[tuple[str, ...]], empty: str, classes: Sequence[str] = ()
) -> str:
    """Cells are escaped here; each carries its column's heading for the phone layout."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = (
        "".join(
            (f'<tr class="{escape(classes[i])}">' if i < len(classes) else "<tr>")
            + "".join(
                f'<td data-label="{escape(h)}">{escape(c)}</td>'
                for h, c in zip(headings, row, strict=True)
            )
            + "</tr>"
            for i, row in enumerate(rows)
        )
        or f'<tr><td colspan="{len(headings)}">{escape(empty)}</td></tr>'
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _webhooks(state: str) -> str:
    if state.startswith("off: "):
        return (
            f'<p class="off" id="webhooks" role="status"><strong>Webhooks are off:</strong> '
            f"{escape(state.removeprefix('off: '))}. voltgate's own alerts (low battery) do not "
            "reach pulse; pulse's rules keep running from the live stream.</p>"
        )
    return f'<p>Webhooks: <strong id="webhooks">{escape(state)}</strong></p>'


_PAIRING_PAGE = re.compile(r"(https?://[^\s<]+/_ak/[^\s<]+?)(?= \(sign in)")


def _signing(notes: Sequence[str]) -> str:
    """Vehicles pulse cannot sign for (key not paired, or no --app-key), each with the page
    where the owner pairs the key as a link."""
    link = r'<a href="\1">\1</a>'
    items = "".join(f"<li>{_PAIRING_PAGE.sub(link, escape(note))}</li>" for note in notes)
    return (
        f'<div class="off" id="signing" role="status"><strong>Signed commands:</strong>'
        f"<ul>{items}</ul></div>"
        if notes
        else ""
    )


def _percent(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f} %"


def dashboard(
    store: PulseStore,
    engine: Engine,
    streaming: bool,
    now: float,
    webhooks: str = "on",
    signing: Sequence[str] = (),
) -> bytes:
    """`webhooks`: "on", "off: <why>" (said on the page), or what pulse is doing about them;
    `signing`: what keeps pulse from signing for a vehicle (its key not paired, …)."""
    since = now - WINDOW
    plots = []
    for key, title, unit in (("soc", "State of charge", "%"), ("power_kw", "Charging power", "kW")):
        series: dict[str, list[tuple[float, float]]] = {}
        for vin, at, value in store.series(key, since):
            series.setdefault(vin, []).append((at, value))
        # From the first sample in the window: a young history fills the plot's width.
        first = min((points[0][0] for points in series.values()), default=since)
        chart = line_chart(title, unit, series, max(since, first), now)
        plots.append(f'<section id="{key}"><h2>{title}</h2>{chart}</section>')
    today = engine.rules.local(now).date()  # days in the owner's time zone, as stored
    energy = dict(store.energy((today - timedelta(days=DAYS - 1)).isoformat()))
    days = [(today - timedelta(days=DAYS - 1 - i)).isoformat() for i in range(DAYS)]
    bars = bar_chart("Energy per day", "kWh", [(d, energy.get(d, 0.0)) for d in days])
    plots.append(f'<section id="energy"><h2>Energy per day</h2>{bars}</section>')
    listed = store.alerts()
    alerts = _table(
        ("when (UTC)", "VIN", "kind", "what"),
        [(_when(a.at), a.vin, a.kind, a.message) for a in listed],
        "No alerts.", [f"alert alert-{a.kind}" for a in listed],
    )  # fmt: skip
    actions = _table(
        ("when (UTC)", "VIN", "command", "body", "outcome"),
        [(_when(a.at), a.vin, a.command, a.body, a.outcome) for a in store.actions()],
        "None yet.",
    )
    where = {None: "", True: "home", False: "away"}
    cars = _table(
        ("VIN", "charge state", "SoC", "limit", "where"),
        [(vin, car.charge_state or "?", _percent(car.soc, 1), _percent(car.limit, 0),
          where[car.near_home]) for vin, car in sorted(engine.cars.items())],
        "No vehicle seen yet.",
    )  # fmt: skip
    live = "streaming" if streaming else "not connected"
    body = (
        f'<h1>voltgate pulse</h1><p>Live stream: <strong id="live">{live}</strong></p>'
        f"{_webhooks(webhooks)}{_signing(signing)}<section><h2>Vehicles</h2>{cars}</section>{''.join(plots)}"
        f'<section id="alerts"><h2>Alerts</h2>{alerts}</section>'
        f'<section id="actions"><h2>Commands sent</h2>{actions}</section>'
    )
    return _page("voltgate pulse", body)
