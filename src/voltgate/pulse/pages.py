"""Pulse's pages, rendered on its side: the sign-in page and the dashboard (plots of state of
charge and charging power, energy per day, alerts, the commands pulse sent)."""

from __future__ import annotations

import time
from datetime import timedelta
from html import escape

from voltgate.pulse.charts import bar_chart, line_chart
from voltgate.pulse.rules import Engine
from voltgate.pulse.store import PulseStore

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem;color:#111}
h1{font-size:1.4rem}section{margin:1.2rem 0}svg.plot{width:100%;height:auto;border:1px solid #ddd}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:.3rem;text-align:left}
.alert-idle_drain{color:#b45309}.alert-stopped_early{color:#b91c1c}a.button{background:#2563eb;
color:#fff;padding:.6rem 1rem;border-radius:.3rem;text-decoration:none}
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


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def dashboard(store: PulseStore, engine: Engine, streaming: bool, now: float) -> bytes:
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
    alerts = (
        "".join(
            f'<tr class="alert alert-{escape(a.kind)}"><td>{_when(a.at)}</td>'
            f"<td>{escape(a.vin)}</td>"
            f"<td>{escape(a.kind)}</td><td>{escape(a.message)}</td></tr>"
            for a in store.alerts()
        )
        or '<tr><td colspan="4">No alerts.</td></tr>'
    )
    actions = (
        "".join(
            f"<tr><td>{_when(a.at)}</td><td>{escape(a.vin)}</td><td>{escape(a.command)}</td>"
            f"<td>{escape(a.body)}</td><td>{escape(a.outcome)}</td></tr>"
            for a in store.actions()
        )
        or '<tr><td colspan="5">None yet.</td></tr>'
    )
    cars = "".join(
        f"<tr><td>{escape(vin)}</td><td>{escape(car.charge_state or '?')}</td>"
        f"<td>{'' if car.soc is None else f'{car.soc:.1f} %'}</td>"
        f"<td>{'' if car.limit is None else f'{car.limit:.0f} %'}</td>"
        f"<td>{'' if car.near_home is None else ('home' if car.near_home else 'away')}</td></tr>"
        for vin, car in sorted(engine.cars.items())
    )
    live = "streaming" if streaming else "not connected"
    body = (
        f'<h1>voltgate pulse</h1><p>Live stream: <strong id="live">{live}</strong></p>'
        f"<section><h2>Vehicles</h2><table><tr><th>VIN</th><th>charge state</th><th>SoC</th>"
        f"<th>limit</th><th>where</th></tr>{cars}</table></section>"
        f"{''.join(plots)}"
        f'<section id="alerts"><h2>Alerts</h2><table><tr><th>when (UTC)</th><th>VIN</th>'
        f"<th>kind</th><th>what</th></tr>{alerts}</table></section>"
        f'<section id="actions"><h2>Commands sent</h2><table><tr><th>when (UTC)</th><th>VIN</th>'
        f"<th>command</th><th>body</th><th>outcome</th></tr>{actions}</table></section>"
    )
    return _page("voltgate pulse", body)
