"""Server-rendered SVG charts: no script, no build step, scale to any width through ``viewBox``.

Each chart is an ``<svg role="img">`` with a ``<title>`` naming what it shows; the page puts the same numbers in a
table next to it for screen readers and for copying.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 440
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 182


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{shown}{unit}" if unit in ("%",) else (f"{shown} {unit}" if unit else shown)


def bar_chart(title: str, items: list[tuple[str, float | None]], unit: str = "", chart_id: str = "") -> Markup:
    """Horizontal bars, one per label (reads well on a phone: labels never rotate)."""
    peak = max([v for _, v in items if v is not None] or [0]) or 1
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-labelledby="{escape(chart_id)}-t" preserveAspectRatio="xMinYMin meet">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>']
    span = WIDTH - LABEL_WIDTH - 78
    for index, (label, value) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = 0 if value is None else max(2, round(span * value / peak)) if value else 0
        parts.append(f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.7:.0f}" '
                     f'text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" rx="3"/>')
        parts.append(f'<text class="value" x="{LABEL_WIDTH + length + 6}" y="{y + BAR_HEIGHT * 0.7:.0f}">'
                     f'{escape(_fmt(value, unit))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(title: str, points: list[tuple[str, float | None]], unit: str = "", chart_id: str = "") -> Markup:
    """A line over days with a dot per known value; gaps where a day has no value."""
    height, left, right, top, bottom = 200, 48, 14, 14, 30
    values = [v for _, v in points if v is not None]
    peak = max(values or [0]) or 1
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return left + index * step, top + plot_h - plot_h * value / peak

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-labelledby="{escape(chart_id)}-t" preserveAspectRatio="xMinYMin meet">',
             f'<title id="{escape(chart_id)}-t">{escape(title)}</title>']
    for fraction in (0, 0.5, 1):
        y = top + plot_h - plot_h * fraction
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(_fmt(round(peak * fraction, 1), ""))}</text>')
    segment: list[str] = []
    for index, (_, value) in enumerate(points + [("", None)]):
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
            continue
        x, y = xy(index, value)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
    if points:
        for index in sorted({0, len(points) // 2, len(points) - 1}):
            x = left + index * step
            anchor = "start" if index == 0 else "end" if index == len(points) - 1 else "middle"
            parts.append(f'<text class="axis" x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}">'
                         f'{escape(points[index][0][5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
