"""Server-rendered SVG charts: estimates with their intervals (and targets), per index node,
per unit of a breakdown (:func:`domain_chart`, a dot plot that stays readable for a hundred
communes), across campaigns (:func:`trend_chart`), and the small-area page's direct vs
model-based intervals and Q–Q plot.

Readable without colour: the estimate is a filled square, the interval a line with end caps,
the target a diamond, and each row carries its numbers and verdict as text. Every SVG has a
title and description for screen readers, and the page shows the same data as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from surveyapp.formatting import share

WIDTH = 640
ROW = 34
LEFT = 64
RIGHT = 200


@dataclass(frozen=True)
class Axis:
    """A horizontal share axis from ``lo`` to ``hi`` drawn between ``left`` and
    ``width - right``: every interval chart here places its values with it."""

    lo: float
    hi: float
    left: float = LEFT
    right: float = RIGHT
    width: float = WIDTH

    def x(self, value: float) -> float:
        return self.left + (self.width - self.left - self.right) * (value - self.lo) / (
            self.hi - self.lo
        )

    def grid(
        self, top: float, bottom: float, label_y: float, size: int = 11, labels: int = 0
    ) -> list[str]:
        """Vertical lines every 5 points from ``top`` to ``bottom``, labelled at ``label_y``;
        with ``labels``, every second (or third …) line is labelled so that no more than that
        many labels share the axis."""
        parts = []
        count = round((self.hi - self.lo) / 0.05) + 1
        every = max(1, math.ceil(count / labels)) if labels else 1
        for i in range(count):
            tick = self.lo + 0.05 * i
            x = self.x(tick)
            parts.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
                'stroke="#c9d0d9" stroke-width="1"/>'
            )
            if i % every == 0:
                parts.append(
                    f'<text x="{x:.1f}" y="{label_y}" font-size="{size}" text-anchor="middle">'
                    f"{escape(share(tick, 0))}</text>"
                )
        return parts


def _axis(values: Sequence[float]) -> tuple[float, float]:
    """A share axis in steps of 5 points, just wide enough for every value."""
    lo = max(0.0, math.floor(min(values, default=0.0) * 20) / 20)
    hi = min(1.0, math.ceil(max(values, default=1.0) * 20) / 20)
    if hi <= lo:
        lo, hi = max(0.0, lo - 0.05), min(1.0, hi + 0.05)
    return lo, hi


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


def _svg(
    width: float, height: float, key: str, title: str, description: str, cls: str, extra: str = ""
) -> list[str]:
    """The opening of a chart: its size, role and the title and description screen readers
    announce (ids ``<key>-t`` and ``<key>-d``, unique on a page)."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'role="img" aria-labelledby="{key}-t {key}-d" class="{cls}"{extra}>',
        f'<title id="{key}-t">{escape(title)}</title>'
        f'<desc id="{key}-d">{escape(description)}</desc>',
    ]


def ci_chart(
    rows: Sequence[dict[str, Any]],
    title: str,
    description: str,
    verdict_text: dict[str, str],
    key: str = "ci",
) -> str:
    """One horizontal row per estimate, on a percentage axis that fits all CIs and targets
    (``key``: a prefix for the chart's ids, unique on the page)."""
    values = [
        v for r in rows for v in (r["ci_low"], r["ci_high"], r.get("target")) if v is not None
    ]
    axis = Axis(*_axis(values))
    height = ROW * len(rows) + 40
    parts = _svg(WIDTH, height, key, title, description, "ci-chart")
    parts += axis.grid(10, height - 24, height - 8)
    for i, row in enumerate(rows):
        y = 24 + i * ROW
        est, low, high = row["estimate"], row["ci_low"], row["ci_high"]
        parts.append(
            f'<text x="4" y="{y + 4}" font-size="12" font-weight="bold">'
            f"{escape(str(row['code']))}</text>"
        )
        if low is not None and high is not None:
            x1, x2 = axis.x(low), axis.x(high)
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
            xe = axis.x(est)
            parts.append(
                f'<rect x="{xe - 5:.1f}" y="{y - 5}" width="10" height="10" fill="#0b4f8a"/>'
            )
        target = row.get("target")
        if target is not None:
            xt = axis.x(target)
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
    parts = _svg(width, height, "trend", title, description, "trend-chart")
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


# A breakdown chart names its first and last few units only: a hundred names down the side
# would be a wall of text. Every row keeps a tooltip (its SVG <title>) and the table beside
# the chart names them all.
LABELLED = 5
DOT_WIDTH = 400
DOT_LEFT = 150
DOT_RIGHT = 18


def domain_chart(
    rows: Sequence[tuple[str, float, float | None, float | None]],
    title: str,
    description: str,
    overall: float | None = None,
    labelled: int = LABELLED,
    key: str = "domains",
) -> str:
    """A dot plot of (label, estimate, ci_low, ci_high) rows sorted by estimate, highest
    first: one thin row per unit, the ``labelled`` highest and lowest named, the others
    drawn and titled but not named; a dashed line at ``overall`` (the whole sample)."""
    ordered = sorted(rows, key=lambda r: -r[1])
    many = len(ordered) > 2 * labelled
    row_h = 9 if many else 22
    values = [v for r in ordered for v in (r[1], r[2], r[3]) if v is not None]
    if overall is not None:
        values.append(overall)
    axis = Axis(*_axis([_clip(v) for v in values]), DOT_LEFT, DOT_RIGHT, DOT_WIDTH)
    top = 14
    height = top + row_h * len(ordered) + 34
    parts = _svg(DOT_WIDTH, height, key, title, description, "ci-chart domain-chart")
    parts += axis.grid(top - 8, height - 26, height - 10, size=12, labels=6)
    if overall is not None:
        x = axis.x(_clip(overall))
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 26}" '
            'stroke="#a3161b" stroke-width="1.5" stroke-dasharray="4 3" class="overall"/>'
        )
    names: list[tuple[float, str]] = []
    for i, (label, est, low, high) in enumerate(ordered):
        y = top + row_h * i + row_h / 2
        named = not many or i < labelled or i >= len(ordered) - labelled
        text = f"{label}: {share(est)}"
        if low is not None and high is not None:
            text += f" ({share(low)} – {share(high)})"
        parts.append(f'<g class="domain"><title>{escape(text)}</title>')
        if low is not None and high is not None:
            parts.append(
                f'<line x1="{axis.x(_clip(low)):.1f}" y1="{y:.1f}" '
                f'x2="{axis.x(_clip(high)):.1f}" y2="{y:.1f}" stroke="#1b1f24" '
                f'stroke-width="{1 if many else 2}"/>'
            )
        size = 5 if many else 9
        parts.append(
            f'<rect x="{axis.x(_clip(est)) - size / 2:.1f}" y="{y - size / 2:.1f}" '
            f'width="{size}" height="{size}" fill="#0b4f8a"/>'
        )
        if named:
            names.append((y, label))
        parts.append("</g>")
    parts += _row_labels(names, size=11 if many else 12, top=top, bottom=height - 30)
    if many:
        y = top + row_h * labelled + row_h / 2
        parts.append(
            f'<text x="{DOT_LEFT - 6}" y="{y + 12:.1f}" font-size="12" '
            'text-anchor="end" class="muted">⋮</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _row_labels(
    names: list[tuple[float, str]], size: float, top: float, bottom: float
) -> list[str]:
    """Names left of their rows, pushed apart where rows are closer than a line of text and
    joined to their row by a thin line."""
    parts = []
    wanted = [y + size / 3 for y, _name in names]
    for (y, name), base in zip(names, _spread(wanted, size + 2, top, bottom), strict=True):
        if abs(base - size / 3 - y) > 0.5:
            parts.append(
                f'<line x1="{DOT_LEFT - 4}" y1="{base - size / 3:.1f}" x2="{DOT_LEFT:.1f}" '
                f'y2="{y:.1f}" stroke="#9aa3ad" stroke-width="0.75"/>'
            )
        parts.append(
            f'<text x="{DOT_LEFT - 6}" y="{base:.1f}" font-size="{size:g}" text-anchor="end" '
            f'class="label">{escape(_shorten(name, DOT_LEFT - 10, size))}</text>'
        )
    return parts


def _shorten(text: str, width: float, size: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (the tooltip and table keep it whole)."""
    if _text_width(text, size) <= width:
        return text
    keep = max(1, int(width / (size * CHAR_WIDTH)) - 1)
    return text[:keep].rstrip() + "…"


# ---- the small-area page ----------------------------------------------------------------

SAE_LEFT = 200
SAE_RIGHT = 24
SAE_ROW = 22


def interval_chart(units: Sequence[Any], title: str, description: str) -> str:
    """One row per unit: direct estimate and 95% CI above, model-based below, same axis.

    Direct: a hollow circle on a thin line; model-based: a filled square on a thick line. A
    few units keep their order, each named; many (a province's communes) are sorted by the
    model-based estimate in thin rows, the :data:`LABELLED` highest and lowest named and
    every row titled, so the chart stays a chart and not a wall.
    """
    many = len(units) > 2 * LABELLED
    ordered = sorted(units, key=lambda u: -u.estimate) if many else list(units)
    row_h = 10 if many else SAE_ROW
    values: list[float] = []
    for u in ordered:
        values += [_clip(u.ci[0]), _clip(u.ci[1])]
        if u.direct_ci:
            values += [_clip(u.direct_ci[0]), _clip(u.direct_ci[1])]
    axis = Axis(*_axis(values), SAE_LEFT, SAE_RIGHT)
    height = row_h * len(ordered) + 40
    parts = _svg(WIDTH, height, "sae", title, description, "ci-chart sae-chart")
    parts += axis.grid(6, height - 24, height - 8)
    for i, u in enumerate(ordered):
        y = (14 if not many else 10) + row_h * i
        tip = f"{u.name}: {share(u.estimate)} ({share(u.ci[0])} – {share(u.ci[1])})"
        parts.append(f'<g class="unit"><title>{escape(tip)}</title>')
        if not many or i < LABELLED or i >= len(ordered) - LABELLED:
            parts.append(
                f'<text x="{SAE_LEFT - 8}" y="{y + 4}" font-size="11" text-anchor="end">'
                f"{escape(_shorten(u.name, SAE_LEFT - 12, 11))}</text>"
            )
        gap = 2 if many else 3
        if u.direct_ci and u.direct is not None:
            a, b = axis.x(_clip(u.direct_ci[0])), axis.x(_clip(u.direct_ci[1]))
            parts.append(
                f'<line x1="{a:.1f}" y1="{y - gap}" x2="{b:.1f}" y2="{y - gap}" '
                'stroke="#6b7785" stroke-width="1"/>'
                f'<circle cx="{axis.x(_clip(u.direct)):.1f}" cy="{y - gap}" '
                f'r="{2 if many else 3}" fill="white" stroke="#6b7785" stroke-width="1.2"/>'
            )
        a, b = axis.x(_clip(u.ci[0])), axis.x(_clip(u.ci[1]))
        x = axis.x(_clip(u.estimate))
        side = 5 if many else 7
        parts.append(
            f'<line x1="{a:.1f}" y1="{y + gap + 1}" x2="{b:.1f}" y2="{y + gap + 1}" '
            f'stroke="#1f4e79" stroke-width="{1.5 if many else 2.5}"/>'
            f'<rect x="{x - side / 2:.1f}" y="{y + gap + 1 - side / 2:.1f}" width="{side}" '
            f'height="{side}" fill="#1f4e79"/></g>'
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

    # a fixed size: stretched to the page's width the square plot would fill the screen
    fixed = f' width="{size}" height="{size}" style="max-width:100%;height:auto"'
    parts = _svg(size, size, "qq", title, description, "qq-plot", fixed)
    parts.append(
        f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" '
        'fill="none" stroke="#c9d0d9"/>'
    )
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
