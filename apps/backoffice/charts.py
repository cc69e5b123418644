"""A bar chart as inline SVG, rendered on the server: the report pages need no script and no
library. Grouped bars, one group per day and one bar per series, with a zero line (GGR and NGR
can be negative) and each bar's value in its tooltip."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape

WIDTH, HEIGHT = 720, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 8, 8, 12, 28
PALETTE = ("#417690", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#2c3e50", "#16a085", "#7f8c8d")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


def bar_chart(days: list[str], series: dict[str, dict[str, int]], label=str) -> str:
    """`series` maps each series' name to {day: value}; `label(series, value)` is the text of a
    value in a tooltip. Returns the <svg> element's markup (escaped), or "" when there is nothing
    to draw."""
    names = sorted(series)
    values = [series[name].get(day, 0) for name in names for day in days]
    if not names or not days:
        return ""
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    zero_y = PAD_TOP + plot_h * top / span
    group_w = plot_w / len(days)
    bar_w = group_w * 0.8 / len(names)
    parts = [
        f'<svg class="report-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="bar chart">'
    ]
    for d, day in enumerate(days):
        x0 = PAD_LEFT + d * group_w + group_w * 0.1
        for s, name in enumerate(names):
            value = series[name].get(day, 0)
            height = plot_h * abs(value) / span
            y = zero_y - height if value >= 0 else zero_y
            bar = Bar(
                x0 + s * bar_w, y, bar_w, height, PALETTE[s % len(PALETTE)], f"{day} {name}: {label(name, value)}"
            )
            parts.append(
                f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" height="{bar.height:.1f}" '
                f'fill="{bar.color}"><title>{escape(bar.title)}</title></rect>'
            )
        if len(days) <= 16 or d % -(-len(days) // 16) == 0:
            parts.append(
                f'<text x="{PAD_LEFT + d * group_w + group_w / 2:.1f}" y="{HEIGHT - 8}" font-size="10" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    parts.append(
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" stroke="#333" '
        'stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def legend(series: dict[str, dict[str, int]]) -> list[tuple[str, str]]:
    """(colour, name) of each series, in the chart's order."""
    return [(PALETTE[s % len(PALETTE)], name) for s, name in enumerate(sorted(series))]
