"""Server-rendered SVG for the small-area page: direct vs model-based intervals, and a normal
Q–Q plot of the standardised residuals.

Like :mod:`surveyapp.dashboard.charts`: readable without colour (direct estimate a hollow
circle on a thin line, model-based a filled square on a thick line), a title and description
for screen readers, and the same numbers in the page's table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from surveyapp.dashboard.charts import _axis

WIDTH = 640
LEFT = 200
RIGHT = 24
ROW = 22


def _x(value: float, lo: float, hi: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (value - lo) / (hi - lo)


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


def interval_chart(units: Sequence[Any], title: str, description: str) -> str:
    """One row per unit: direct estimate and 95% CI above, model-based below, same axis."""
    values: list[float] = []
    for u in units:
        values += [_clip(u.ci[0]), _clip(u.ci[1])]
        if u.direct_ci:
            values += [_clip(u.direct_ci[0]), _clip(u.direct_ci[1])]
    lo, hi = _axis(values)
    height = ROW * len(units) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="sae-t sae-d" class="ci-chart sae-chart">',
        f'<title id="sae-t">{escape(title)}</title><desc id="sae-d">{escape(description)}</desc>',
    ]
    tick = lo
    while tick <= hi + 1e-9:
        x = _x(tick, lo, hi)
        parts.append(
            f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{height - 24}" '
            'stroke="#c9d0d9" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"{tick * 100:.0f}%</text>"
        )
        tick += 0.05
    for i, u in enumerate(units):
        y = 14 + ROW * i
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4}" font-size="11" text-anchor="end">'
            f"{escape(u.name)}</text>"
        )
        if u.direct_ci and u.direct is not None:
            a, b = _x(_clip(u.direct_ci[0]), lo, hi), _x(_clip(u.direct_ci[1]), lo, hi)
            parts.append(
                f'<line x1="{a:.1f}" y1="{y - 3}" x2="{b:.1f}" y2="{y - 3}" stroke="#6b7785" '
                'stroke-width="1"/>'
                f'<circle cx="{_x(_clip(u.direct), lo, hi):.1f}" cy="{y - 3}" r="3" '
                'fill="white" stroke="#6b7785" stroke-width="1.2"/>'
            )
        a, b = _x(_clip(u.ci[0]), lo, hi), _x(_clip(u.ci[1]), lo, hi)
        x = _x(_clip(u.estimate), lo, hi)
        parts.append(
            f'<line x1="{a:.1f}" y1="{y + 4}" x2="{b:.1f}" y2="{y + 4}" stroke="#1f4e79" '
            'stroke-width="2.5"/>'
            f'<rect x="{x - 3.5:.1f}" y="{y + 0.5}" width="7" height="7" fill="#1f4e79"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def qq_plot(points: Sequence[tuple[float, float]], title: str, description: str) -> str:
    """Normal Q–Q plot: theoretical quantile across, standardised residual up, line y = x."""
    size, pad = 320, 36
    extent = max([3.0] + [abs(v) for p in points for v in p if math.isfinite(v)])
    extent = math.ceil(extent)

    def sx(v: float) -> float:
        return pad + (size - 2 * pad) * (v + extent) / (2 * extent)

    def sy(v: float) -> float:
        return size - pad - (size - 2 * pad) * (v + extent) / (2 * extent)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        f'aria-labelledby="qq-t qq-d" class="qq-plot">',
        f'<title id="qq-t">{escape(title)}</title><desc id="qq-d">{escape(description)}</desc>',
        f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" '
        'fill="none" stroke="#c9d0d9"/>',
    ]
    for t in range(-extent, extent + 1):
        parts.append(
            f'<text x="{sx(t):.1f}" y="{size - pad + 14}" font-size="10" '
            f'text-anchor="middle">{t}</text>'
            f'<text x="{pad - 6}" y="{sy(t) + 3:.1f}" font-size="10" text-anchor="end">{t}</text>'
        )
    parts.append(
        f'<line x1="{sx(-extent):.1f}" y1="{sy(-extent):.1f}" x2="{sx(extent):.1f}" '
        f'y2="{sy(extent):.1f}" stroke="#6b7785" stroke-dasharray="4 3"/>'
    )
    for theo, sample in points:
        parts.append(
            f'<circle cx="{sx(theo):.1f}" cy="{sy(sample):.1f}" r="3" fill="#1f4e79" '
            'class="qq-point"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
