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


# Estimated advance of a character of the chart's sans-serif face, as a share of its size; a
# little wide on purpose, so that label boxes computed here never undershoot the drawn ones.
CHAR_WIDTH = 0.66


def _text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Words on lines no wider than ``width``, so that neighbouring labels never meet."""
    lines: list[str] = []
    for word in text.split():
        if lines and _text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _spread(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Baselines as near ``wanted`` (sorted) as they can be while at least ``gap`` apart and
    inside [low, high]."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + gap) if placed else max(y, low))
    overflow = placed[-1] - high if placed else 0.0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    return placed


def trend_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[dict[str, Any] | None]]],
    title: str,
    description: str,
) -> str:
    """Estimates with CI bars per campaign (x) for a few index nodes, one marker shape each.

    Every point carries its value as text, so the chart reads without colour; the page's
    table holds the same numbers. The values of one campaign stand in a column right of its
    markers, each joined to its marker by a thin line and pushed apart so none overlaps;
    campaign names wrap within their own slot.
    """
    value_size, label_size, legend_size = 10.0, 11.0, 12.0
    width, top, left = 760, 20, 56
    legend_width = max([_text_width(name, legend_size) for name, _ in series] or [0.0]) + 40
    right = max(150.0, legend_width)
    plot_w = width - left - right
    step = plot_w / max(len(labels), 1)
    wrapped = [_wrap(label, step - 8, label_size) for label in labels]
    bottom = 24 + 14 * max((len(lines) for lines in wrapped), default=1)
    height = 240 + bottom
    values = [
        v
        for _, points in series
        for p in points
        if p is not None
        for v in (p["ci_low"], p["ci_high"])
        if v is not None
    ]
    lo, hi = _axis(values)

    def y_of(v: float) -> float:
        return top + (height - top - bottom) * (hi - v) / (hi - lo)

    spacing = 12.0
    span = spacing * (len(series) - 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="tt td" class="trend-chart">',
        f'<title id="tt">{escape(title)}</title><desc id="td">{escape(description)}</desc>',
    ]
    tick = lo
    while tick <= hi + 1e-9:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right:.1f}" y2="{y:.1f}" '
            'stroke="#c9d0d9" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{label_size:g}" '
            f'text-anchor="end" class="tick">{escape(share(tick, 0))}</text>'
        )
        tick += 0.05
    for i, lines in enumerate(wrapped):
        x = left + step * (i + 0.5)
        tspans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 14}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18:.1f}" font-size="{label_size:g}" '
            f'text-anchor="middle" class="campaign">{tspans}</text>'
        )
    # The markers and value column of a campaign are centred together in its slot.
    column_w = _text_width(share(0.9999, 1), value_size)
    shift = (span + 6 + 8 + column_w) / 2 - span / 2 - 6
    columns: list[list[tuple[float, float, float, str]]] = [[] for _ in labels]
    for k, (name, points) in enumerate(series):
        shape = MARKERS[k % len(MARKERS)]
        offset = k * spacing - span / 2
        previous: tuple[float, float] | None = None
        for i, point in enumerate(points):
            if point is None or point["estimate"] is None:
                previous = None
                continue
            x = left + step * (i + 0.5) - shift + offset
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
            columns[i].append((y, x, k, share(point["estimate"], 1)))
            previous = (x, y)
        legend_y = top + 18 * k + 8
        parts.append(_marker(shape, width - right + 16, legend_y))
        parts.append(
            f'<text x="{width - right + 28:.1f}" y="{legend_y + 4}" font-size="{legend_size:g}" '
            f'class="legend">{escape(name)}</text>'
        )
    for i, column in enumerate(columns):
        if not column:
            continue
        column.sort()
        x_text = left + step * (i + 0.5) - shift + span / 2 + 14
        baselines = _spread(
            [y + value_size / 3 for y, *_ in column],
            value_size + 3,
            top + value_size,
            height - bottom - 2,
        )
        for (y, x, _k, text), base in zip(column, baselines, strict=True):
            parts.append(
                f'<line x1="{x + 6:.1f}" y1="{y:.1f}" x2="{x_text - 2:.1f}" '
                f'y2="{base - value_size / 3:.1f}" stroke="#9aa3ad" stroke-width="0.75"/>'
                f'<text x="{x_text:.1f}" y="{base:.1f}" font-size="{value_size:g}" '
                f'class="value">{escape(text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
