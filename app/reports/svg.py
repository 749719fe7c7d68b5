"""Small server-side SVG charts (no JavaScript, no external library)."""
from __future__ import annotations

from markupsafe import Markup, escape


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def column_chart(items: list[tuple[str, int, str | None]], *, title: str, width: int = 640,
                 height: int = 220) -> Markup:
    """Vertical bars: items are (label, value, link or None)."""
    pad_l, pad_b, pad_t = 36, 34, 16
    n = max(len(items), 1)
    top = max([v for _, v, _ in items] + [1])
    plot_h = height - pad_b - pad_t
    slot = (width - pad_l - 8) / n
    bar = max(slot * 0.64, 2)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        y = pad_t + plot_h * (1 - frac)
        parts.append(f'<line x1="{pad_l}" x2="{width - 4}" y1="{_fmt(y)}" y2="{_fmt(y)}" class="grid"/>'
                     f'<text x="{pad_l - 4}" y="{_fmt(y + 4)}" class="axis" text-anchor="end">{round(top * frac)}</text>')
    for i, (label, value, href) in enumerate(items):
        h = plot_h * value / top
        x = pad_l + i * slot + (slot - bar) / 2
        y = pad_t + plot_h - h
        rect = (f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar)}" height="{_fmt(h)}" class="bar">'
                f'<title>{escape(label)}：{value}</title></rect>'
                f'<text x="{_fmt(x + bar / 2)}" y="{_fmt(y - 3)}" class="val" text-anchor="middle">{value}</text>')
        if href:
            rect = f'<a href="{escape(href)}">{rect}</a>'
        parts.append(rect)
        parts.append(f'<text x="{_fmt(x + bar / 2)}" y="{height - pad_b + 16}" class="axis" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: list[tuple[str, int, str | None]], *, title: str, width: int = 640,
              label_width: int = 230) -> Markup:
    """Horizontal bars with their labels on the left: items are (label, value, link or None)."""
    row_h, pad = 24, 6
    height = max(len(items), 1) * row_h + pad * 2
    top = max([v for _, v, _ in items] + [1])
    plot_w = width - label_width - 50
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value, href) in enumerate(items):
        y = pad + i * row_h
        w = plot_w * value / top
        short = label if len(label) <= 16 else label[:15] + "…"
        rect = (f'<rect x="{label_width}" y="{y + 4}" width="{_fmt(max(w, 1))}" height="{row_h - 8}" class="bar">'
                f'<title>{escape(label)}：{value}</title></rect>'
                f'<text x="{_fmt(label_width + w + 4)}" y="{y + row_h - 8}" class="val">{value}</text>')
        if href:
            rect = f'<a href="{escape(href)}">{rect}</a>'
        parts.append(f'<text x="{label_width - 6}" y="{y + row_h - 8}" class="axis" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(short)}</text>' + rect)
    parts.append("</svg>")
    return Markup("".join(parts))
