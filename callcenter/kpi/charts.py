"""Inline SVG charts (no script, no CDN): the dashboard's service level over the day and the report's charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT, PAD = 720, 220, 36
COLORS = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c")


def _frame(title: str, y_max: float, percent: bool) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f'<text x="{PAD}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = _y(value, y_max)
        label = f"{value * 100:.0f}%" if percent else f"{value:.0f}"
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="2" y="{y + 4:.1f}" font-size="10" fill="#6b7280">{label}</text>')
    return parts


def _y(value: float, y_max: float) -> float:
    return HEIGHT - PAD + 10 - (value / y_max if y_max else 0) * (HEIGHT - PAD - 20)


def _x(i: int, n: int) -> float:
    return PAD + (WIDTH - PAD - 8) * (i + 0.5) / max(n, 1)


def _labels(labels: Sequence[str]) -> list[str]:
    step = max(1, len(labels) // 12)
    return [
        f'<text x="{_x(i, len(labels)):.1f}" y="{HEIGHT - 4}" font-size="10" text-anchor="middle" '
        f'fill="#6b7280">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % step == 0
    ]


def line_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], target: float | None = None, percent: bool = True
) -> str:
    """A line over the intervals (gaps where there is no value), with an optional dashed target line."""
    known = [v for v in values if v is not None]
    y_max = 1.0 if percent else max([*known, target or 0.0, 1.0]) * 1.1
    parts = _frame(title, y_max, percent)
    if target is not None:
        y = _y(target, y_max)
        parts.append(
            f'<line class="target" x1="{PAD}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" '
            'stroke-dasharray="6 4"/>'
        )
    points = [f"{_x(i, len(values)):.1f},{_y(v, y_max):.1f}" for i, v in enumerate(values) if v is not None]
    if points:
        parts.append(f'<polyline fill="none" stroke="{COLORS[0]}" stroke-width="2" points="{" ".join(points)}"/>')
    parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{COLORS[0]}"/>' for p in points]
    return "".join([*parts, *_labels(labels), "</svg>"])


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]) -> str:
    """Grouped bars per interval, one colour per series, with a legend."""
    y_max = max([1.0, *(v for values in series.values() for v in values)]) * 1.1
    parts = _frame(title, y_max, percent=False)
    slot = (WIDTH - PAD - 8) / max(len(labels), 1)
    width = slot * 0.8 / max(len(series), 1)
    for s, (name, values) in enumerate(series.items()):
        color = COLORS[s % len(COLORS)]
        for i, value in enumerate(values):
            x = PAD + slot * i + slot * 0.1 + width * s
            y = _y(value, y_max)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.5):.1f}" height="{_y(0, y_max) - y:.1f}" '
                f'fill="{color}"><title>{escape(name)} {escape(labels[i])}: {value:g}</title></rect>'
            )
        parts.append(
            f'<text x="{WIDTH - 150 + 0 * s}" y="{14 + 12 * s}" font-size="10" fill="{color}">■ {escape(name)}</text>'
        )
    return "".join([*parts, *_labels(labels), "</svg>"])
