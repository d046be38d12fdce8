"""The trend chart's labels never overlap, measured on the SVG as Chromium lays it out."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
from flask import Flask

from surveyapp.dashboard.charts import trend_chart

NAMES = ["Lĩnh vực 1", "Lĩnh vực 2", "Chỉ số chung"]


def _point(estimate: float) -> dict[str, float]:
    return {"estimate": estimate, "ci_low": estimate - 0.02, "ci_high": estimate + 0.02}


def _chart(app: Flask, campaigns: int) -> str:
    labels = [
        f"Khảo sát SIPAS {2021 + i} tỉnh Đồng Nai (dữ liệu mô phỏng)" for i in range(campaigns)
    ]
    # Estimates a few tenths of a point apart: their value labels would sit on each other.
    series = [
        (name, [_point(0.80 + 0.002 * k + 0.01 * (i % 2)) for i in range(campaigns)])
        for k, name in enumerate(NAMES)
    ]
    with app.test_request_context("/"):
        return trend_chart(labels, series, title="Xu hướng", description="Mô tả")


@pytest.mark.parametrize("campaigns", [1, 5])
def test_no_two_labels_overlap(app: Flask, page, campaigns: int, artifacts: Path) -> None:
    svg = _chart(app, campaigns)
    page.set_viewport_size({"width": 800, "height": 600})
    page.set_content(f"<!doctype html><body style='margin:0'><div style='width:760px'>{svg}</div>")
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('svg text')].map(t => {
             const r = t.getBoundingClientRect();
             return {text: t.textContent, cls: t.getAttribute('class'),
                     x1: r.left, y1: r.top, x2: r.right, y2: r.bottom};
           })"""
    )
    page.screenshot(path=str(artifacts / f"trend-chart-{campaigns}.png"))
    legend = [b["text"] for b in boxes if b["cls"] == "legend"]
    assert legend == NAMES
    values = [b for b in boxes if b["cls"] == "value"]
    assert len(values) == 3 * campaigns
    assert all(b["text"].endswith("\u00a0%") and "," in b["text"] for b in values)
    width = page.evaluate("document.querySelector('svg').getBoundingClientRect().right")
    for a, b in combinations(boxes, 2):
        apart = a["x2"] <= b["x1"] or b["x2"] <= a["x1"] or a["y2"] <= b["y1"] or b["y2"] <= a["y1"]
        assert apart, (a, b)
    assert all(b["x1"] >= 0 and b["x2"] <= width for b in boxes)
