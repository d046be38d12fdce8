"""Server-rendered SVG charts: estimate with its confidence interval and the target.

Readable without colour: the estimate is a filled square, the interval a line with end caps,
the target a diamond, and each row carries its numbers and verdict as text. The SVG has a
title and description for screen readers, and the page shows the same data as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from surveyapp.formatting import share

WIDTH = 640
ROW = 34
LEFT = 64
RIGHT = 200


def _x(value: float, lo: float, hi: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (value - lo) / (hi - lo)


def _axis(values: Sequence[float]) -> tuple[float, float]:
    """A share axis in steps of 5 points, just wide enough for every value."""
    lo = max(0.0, math.floor(min(values, default=0.0) * 20) / 20)
    hi = min(1.0, math.ceil(max(values, default=1.0) * 20) / 20)
    if hi <= lo:
        lo, hi = max(0.0, lo - 0.05), min(1.0, hi + 0.05)
    return lo, hi


def ci_chart(
    rows: Sequence[dict[str, Any]], title: str, description: str, verdict_text: dict[str, str]
) -> str:
    """One horizontal row per estimate, on a percentage axis that fits all CIs and targets."""
    values = [
        v for r in rows for v in (r["ci_low"], r["ci_high"], r.get("target")) if v is not None
    ]
    lo, hi = _axis(values)
    height = ROW * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="t d" class="ci-chart">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(description)}</desc>',
    ]
    tick = lo
    while tick <= hi + 1e-9:
        x = _x(tick, lo, hi)
        parts.append(
            f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{height - 24}" '
            'stroke="#c9d0d9" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"{escape(share(tick, 0))}</text>"
        )
        tick += 0.05
    for i, row in enumerate(rows):
        y = 24 + i * ROW
        est, low, high = row["estimate"], row["ci_low"], row["ci_high"]
        parts.append(
            f'<text x="4" y="{y + 4}" font-size="12" font-weight="bold">'
            f"{escape(str(row['code']))}</text>"
        )
        if low is not None and high is not None:
            x1, x2 = _x(low, lo, hi), _x(high, lo, hi)
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y}" x2="{x2:.1f}" y2="{y}" stroke="#1b1f24" '
                'stroke-width="2"/>'
            )
            for xc in (x1, x2):
                parts.append(
                    f'<line x1="{xc:.1f}" y1="{y - 6}" x2="{xc:.1f}" y2="{y + 6}" '
                    'stroke="#1b1f24" stroke-width="2"/>'
                )
        if est is not None:
            xe = _x(est, lo, hi)
            parts.append(
                f'<rect x="{xe - 5:.1f}" y="{y - 5}" width="10" height="10" fill="#0b4f8a"/>'
            )
        target = row.get("target")
        if target is not None:
            xt = _x(target, lo, hi)
            parts.append(
                f'<path d="M{xt:.1f} {y - 9} l7 9 l-7 9 l-7 -9 z" fill="none" '
                'stroke="#a3161b" stroke-width="2"/>'
            )
        label = share(est)
        verdict = verdict_text.get(row.get("verdict") or "", "")
        parts.append(
            f'<text x="{WIDTH - RIGHT + 10}" y="{y + 4}" font-size="12">'
            f"{escape(label)} {escape(verdict)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


MARKERS = ("square", "circle", "triangle")


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#1b1f24"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 6:.1f} l6 10 l-12 0 z" fill="#6b4c00"/>'
    return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#0b4f8a"/>'


def trend_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[dict[str, Any] | None]]],
    title: str,
    description: str,
) -> str:
    """Estimates with CI bars per campaign (x) for a few index nodes, one marker shape each.

    Every point carries its value as text, so the chart reads without colour; the page's
    table holds the same numbers.
    """
    width, height, top, bottom, left, right = 640, 300, 20, 60, 56, 120
    values = [
        v
        for _, points in series
        for p in points
        if p is not None
        for v in (p["ci_low"], p["ci_high"])
        if v is not None
    ]
    lo, hi = _axis(values)
    plot_w = width - left - right
    step = plot_w / max(len(labels), 1)

    def y_of(v: float) -> float:
        return top + (height - top - bottom) * (hi - v) / (hi - lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="tt td" class="trend-chart">',
        f'<title id="tt">{escape(title)}</title><desc id="td">{escape(description)}</desc>',
    ]
    tick = lo
    while tick <= hi + 1e-9:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#c9d0d9" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{escape(share(tick, 0))}</text>"
        )
        tick += 0.05
    for i, label in enumerate(labels):
        x = left + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for k, (name, points) in enumerate(series):
        shape = MARKERS[k % len(MARKERS)]
        offset = (k - (len(series) - 1) / 2) * 14
        previous: tuple[float, float] | None = None
        for i, point in enumerate(points):
            if point is None or point["estimate"] is None:
                previous = None
                continue
            x = left + step * (i + 0.5) + offset
            y = y_of(point["estimate"])
            if point["ci_low"] is not None and point["ci_high"] is not None:
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y_of(point["ci_low"]):.1f}" x2="{x:.1f}" '
                    f'y2="{y_of(point["ci_high"]):.1f}" stroke="#1b1f24" stroke-width="1.5"/>'
                )
            if previous is not None:
                parts.append(
                    f'<line x1="{previous[0]:.1f}" y1="{previous[1]:.1f}" x2="{x:.1f}" '
                    f'y2="{y:.1f}" stroke="#5a6470" stroke-width="1" stroke-dasharray="4 3"/>'
                )
            parts.append(_marker(shape, x, y))
            shown = share(point["estimate"], 1)
            parts.append(
                f'<text x="{x + 8:.1f}" y="{y - 6:.1f}" font-size="10">{escape(shown)}</text>'
            )
            previous = (x, y)
        legend_y = top + 16 * k + 8
        parts.append(_marker(shape, width - right + 16, legend_y))
        parts.append(
            f'<text x="{width - right + 28}" y="{legend_y + 4}" font-size="12">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
