"""Inline SVG plots drawn on pulse's side (no script, no CDN): a line per vehicle over time,
and bars for energy per day."""

from __future__ import annotations

import time
from html import escape

_W, _H, _LEFT, _BOTTOM, _TOP = 600, 180, 40, 20, 10
_COLOURS = ("#2563eb", "#dc2626", "#059669", "#d97706")


def _hhmm(at: float) -> str:
    return time.strftime("%H:%M", time.gmtime(at))


def line_chart(
    title: str, unit: str, series: dict[str, list[tuple[float, float]]], start: float, end: float
) -> str:
    """One polyline per vehicle over [start, end]; y from 0 to the largest value."""
    peak = max((v for points in series.values() for _, v in points), default=0.0) or 1.0
    span, plot = _W - _LEFT, _H - _BOTTOM - _TOP
    width = max(end - start, 1.0)
    lines = []
    for index, (vin, points) in enumerate(sorted(series.items())):
        xy = " ".join(
            f"{_LEFT + span * (at - start) / width:.1f},{_TOP + plot - plot * v / peak:.1f}"
            for at, v in points
        )
        colour = _COLOURS[index % len(_COLOURS)]
        # non-scaling-stroke: 2 px on a phone too, where the viewBox is drawn at 60 %.
        lines.append(
            f'<polyline class="series" data-vin="{escape(vin)}" data-points="{len(points)}" '
            f'fill="none" stroke="{colour}" stroke-width="2" vector-effect="non-scaling-stroke" '
            f'points="{xy}">'
            f"<title>{escape(vin)}</title></polyline>"
        )
    label = f"{title} ({unit}), {sum(len(p) for p in series.values())} samples"
    return (
        f'<svg class="plot" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
        f'<line x1="{_LEFT}" y1="{_TOP + plot}" x2="{_W}" y2="{_TOP + plot}" stroke="#888"/>'
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot}" stroke="#888"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 10}" text-anchor="end" font-size="11">{peak:.1f}</text>'
        f'<text x="{_LEFT - 4}" y="{_TOP + plot}" text-anchor="end" font-size="11">0</text>'
        f'<text x="{_LEFT}" y="{_H - 4}" font-size="11">{_hhmm(start)}</text>'
        f'<text x="{_W}" y="{_H - 4}" text-anchor="end" font-size="11">{_hhmm(end)} UTC</text>'
        f"{''.join(lines)}</svg>"
    )


def bar_chart(title: str, unit: str, bars: list[tuple[str, float]]) -> str:
    peak = max((v for _, v in bars), default=0.0) or 1.0
    span, plot = _W - _LEFT, _H - _BOTTOM - _TOP
    slot = span / max(len(bars), 1)
    rects = []
    for index, (day, value) in enumerate(bars):
        height = max(plot * value / peak, 1.0)
        rects.append(
            f'<rect class="bar" x="{_LEFT + index * slot:.1f}" y="{_TOP + plot - height:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{height:.1f}" fill="#059669">'
            f"<title>{escape(day)}: {value:.2f} {unit}</title></rect>"
            f'<text x="{_LEFT + index * slot + slot / 2:.1f}" y="{_H - 4}" text-anchor="middle" '
            f'font-size="10">{escape(day[5:])}</text>'
        )
    label = f"{title} ({unit}), {len(bars)} days"
    return (
        f'<svg class="plot" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
        f'<line x1="{_LEFT}" y1="{_TOP + plot}" x2="{_W}" y2="{_TOP + plot}" stroke="#888"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 10}" text-anchor="end" font-size="11">{peak:.2f}</text>'
        f"{''.join(rects)}</svg>"
    )
