"""Tiny inline-SVG charts, rendered on the server: no JavaScript library, no CDN."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 960, 240, 48


def line_chart(labels: Sequence[str], series: dict[str, Sequence[float]], title: str,
               colours: Sequence[str] = ("#1f6feb", "#d1242f", "#9a6700"), percent: bool = False,
               markers: bool = False) -> Markup:
    """A line per series over ``labels``; values share one y axis from zero (to 100 % for ``percent``).

    ``markers``: a dot on every point whose tooltip gives its label and value.
    """
    if not labels:
        return Markup('<p class="muted">No data for this period.</p>')
    top = 1.0 if percent else max((max(values) for values in series.values() if values), default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(labels) - 1, 1)

    def xy(i: int, value: float) -> str:
        return f"{PAD + i * step:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top:.1f}"

    fmt = (lambda v: f"{100 * v:.0f} %") if percent else (lambda v: f"{v:,.0f}")
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
             f'<text x="{PAD - 4}" y="{PAD}" class="tick" text-anchor="end">{fmt(top)}</text>',
             f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" class="tick" text-anchor="end">0</text>',
             f'<text x="{PAD}" y="{HEIGHT - 8}" class="tick">{escape(labels[0])}</text>',
             f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">{escape(labels[-1])}</text>']
    for (name, values), colour in zip(series.items(), colours, strict=False):
        points = " ".join(xy(i, v) for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                     f"<title>{escape(name)}</title></polyline>")
        if len(values) == 1 or markers:
            for i, value in enumerate(values):
                x, y = xy(i, value).split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="{4 if len(values) == 1 else 3}" fill="{colour}">'
                             f"<title>{escape(name)}, {escape(labels[i])}: {fmt(value)}</title></circle>")
    legend_x = PAD
    for name, colour in zip(series, colours, strict=False):
        parts.append(f'<rect x="{legend_x}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + 14}" y="15" class="legend">{escape(name)}</text>')
        legend_x += 14 + 8 * len(name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))
