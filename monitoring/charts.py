"""Accessible inline SVG charts: each has role="img", a <title> and a <desc>, and the page
shows the same figures in a data table, so nobody depends on the picture."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

RAG_FILL = {"green": "#00703c", "amber": "#ffdd00", "red": "#d4351c", None: "#505a5f"}
LINE = "#1d70b8"
TARGET = "#505a5f"


def _floats(values: Sequence) -> list[float | None]:
    return [None if v is None else float(Decimal(v)) for v in values]


def _scale(values: list[float | None], extra: Sequence[float | None] = ()) -> tuple[float, float]:
    numbers = [v for v in [*values, *extra] if v is not None]
    if not numbers:
        return 0.0, 1.0
    low, high = min([*numbers, 0.0]), max(numbers)
    if high == low:
        high = low + 1
    return low, high


def sparkline(values: Sequence, *, title: str, target=None, width: int = 120,
              height: int = 30) -> SafeString:
    """A small trend line; gaps where a period has no value; a dashed line for the target."""
    points = _floats(values)
    target_f = None if target is None else float(Decimal(target))
    low, high = _scale(points, [target_f])
    pad = 3
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def y(v: float) -> float:
        return round(height - pad - (v - low) / (high - low) * (height - 2 * pad), 1)

    segments, current = [], []
    for index, value in enumerate(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{round(pad + index * step, 1)},{y(value)}")
    if current:
        segments.append(current)
    described = ", ".join("no value" if v is None else f"{v:g}" for v in points)
    parts = [
        format_html('<svg xmlns="http://www.w3.org/2000/svg" class="app-sparkline" role="img" '
                    'width="{}" height="{}" viewBox="0 0 {} {}" focusable="false">',
                    width, height, width, height),
        format_html("<title>{}</title><desc>Values in order: {}</desc>", title, described),
    ]
    if target_f is not None:
        parts.append(format_html(
            '<line x1="0" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="3 2" '
            'stroke-width="1"/>', width, y(target_f), y(target_f), TARGET))
    for segment in segments:
        if len(segment) == 1:
            cx, cy = segment[0].split(",")
            parts.append(format_html('<circle cx="{}" cy="{}" r="2" fill="{}"/>', cx, cy, LINE))
        else:
            parts.append(format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                LINE, " ".join(segment)))
    parts.append(SafeString("</svg>"))
    return format_html_join("", "{}", ((part,) for part in parts))


def axis_ticks(low: float, high: float, most: int = 5, *, whole: bool = False) -> list[float]:
    """Evenly spaced round values (steps of 1, 2 or 5 times a power of ten) from 0, or below
    it, to at least ``high``, at most ``most`` of them: 0, 2, 4, 6, 8 for a highest bar of 7.
    ``whole`` for counts: no step smaller than 1."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    magnitude = 10 ** math.floor(math.log10((high - low) / (most - 1)))
    if whole:
        magnitude = max(magnitude, 1)
    for multiple in (1, 2, 5, 10):
        step = multiple * magnitude
        first, last = math.floor(low / step), math.ceil(high / step)
        if last - first + 1 <= most:
            break
    return [round(n * step, 10) for n in range(first, last + 1)]


def bar_chart(items: Sequence[tuple[str, object, str | None]], *, title: str, target=None,
              width: int = 600, height: int = 220) -> SafeString:
    """Vertical bars, one per (label, value, rag); bar colours follow RAG. Each bar is
    labelled with its figure (and has its own <title>, so screen readers and hover give it
    too) against an axis of round, evenly spaced values."""
    values = _floats([value for _label, value, _rag in items])
    target_f = None if target is None else float(Decimal(target))
    low, high = _scale(values, [target_f])
    ticks = axis_ticks(low, high, whole=all(
        v is None or float(v).is_integer() for v in [*values, target_f]))
    low, high = ticks[0], ticks[-1]
    left, bottom, top = 40, 30, 16
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(len(items), 1)
    bar_w = max(slot * 0.6, 4)

    def y(v: float) -> float:
        return round(top + plot_h - (v - low) / (high - low) * plot_h, 1)

    described = "; ".join(
        f"{label}: {'no value' if v is None else f'{v:g}'}"
        for (label, _value, _rag), v in zip(items, values, strict=True)
    )
    parts = [
        format_html('<svg xmlns="http://www.w3.org/2000/svg" class="app-bar-chart" role="img" '
                    'width="100%" viewBox="0 0 {} {}" focusable="false">', width, height),
        format_html("<title>{}</title><desc>{}</desc>", title, described),
    ]
    for tick in ticks:
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="{}"/>'
            '<text class="axis-tick" x="{}" y="{}" font-size="11" text-anchor="end">{}</text>',
            left, width - 10, y(tick), y(tick), "#0b0c0c" if tick == 0 else "#b1b4b6",
            1 if tick == 0 else 0.5, left - 4, y(tick) + 4, f"{tick:g}"))
    for index, ((label, _value, rag), value) in enumerate(zip(items, values, strict=True)):
        x = round(left + index * slot + (slot - bar_w) / 2, 1)
        if value is not None:
            top_y = y(value)
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#0b0c0c" '
                'stroke-width="0.5"><title>{}: {}</title></rect>',
                x, top_y, round(bar_w, 1), round(max(y(low) - top_y, 0.5), 1),
                RAG_FILL.get(rag, RAG_FILL[None]), label, f"{value:g}"))
            parts.append(format_html(
                '<text class="bar-value" x="{}" y="{}" font-size="11" font-weight="bold" '
                'text-anchor="middle">{}</text>', round(x + bar_w / 2, 1), top_y - 4,
                f"{value:g}"))
        parts.append(format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>',
            round(x + bar_w / 2, 1), height - 12, label))
    if target_f is not None:
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-dasharray="6 3" '
            'stroke-width="2"><title>Target {}</title></line>',
            left, width - 10, y(target_f), y(target_f), TARGET, f"{target_f:g}"))
    parts.append(SafeString("</svg>"))
    return format_html_join("", "{}", ((part,) for part in parts))


__all__ = ["bar_chart", "sparkline"]


_BLOCKS = "▁▂▃▄▅▆▇█"


def text_sparkline(values: Sequence) -> str:
    """A trend in block characters (▁▃▅█), one per period, "·" where a period has no value.

    Used in long printed reports, where one SVG per KPI would cost WeasyPrint hundreds of
    megabytes; the charts in the report itself stay SVG.
    """
    points = _floats(values)
    known = [p for p in points if p is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(
        "·" if p is None else _BLOCKS[round((p - low) / span * (len(_BLOCKS) - 1))]
        for p in points
    )
