"""Usage charts as inline SVG drawn on the server: no script, no external file, nothing the
pages' CSP would block. Colours come from the stylesheet's classes (no inline style)."""

from __future__ import annotations

import time
from html import escape

from markupsafe import Markup

_WIDTH, _HEIGHT = 400, 150
_LEFT, _BOTTOM, _TOP = 36, 20, 10


def _clock(at: float, step: int) -> str:
    return time.strftime("%H:%M" if step < 86_400 else "%m-%d", time.gmtime(at))


def bar_chart(title: str, css: str, values: list[int], start: int, step: int) -> Markup:
    """A bar per period, the largest value on the axis and the range's first and last times;
    the SVG scales to its container's width (a 390 px phone too)."""
    total = sum(values)
    peak = max(values, default=0)
    span = _WIDTH - _LEFT
    plot = _HEIGHT - _BOTTOM - _TOP
    slot = span / max(len(values), 1)
    bars = []
    for index, value in enumerate(values):
        if value <= 0:
            continue
        height = max(plot * value / peak, 1.0)
        x = _LEFT + index * slot
        at = _clock(start + index * step, step)
        bars.append(
            f'<rect class="bar {css}" x="{x:.1f}" y="{_TOP + plot - height:.1f}" '
            f'width="{max(slot - 1, 1):.1f}" height="{height:.1f}">'
            f"<title>{at}: {value}</title></rect>"
        )
    end = start + (len(values) - 1) * step
    label = f"{title}: {total} in all, at most {peak} per period"
    svg = (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot}" x2="{_WIDTH}" y2="{_TOP + plot}"/>'
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot}"/>'
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + 10}" text-anchor="end">{peak}</text>'
        f'<text class="tick" x="{_LEFT - 4}" y="{_TOP + plot}" text-anchor="end">0</text>'
        f'<text class="tick" x="{_LEFT}" y="{_HEIGHT - 4}">{_clock(start, step)}</text>'
        f'<text class="tick" x="{_WIDTH}" y="{_HEIGHT - 4}" text-anchor="end">'
        f"{_clock(end, step)}</text>"
        f"{''.join(bars)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every text in it is a number, a time or escaped
