"""The review's charts, drawn on the server as PNG (matplotlib's Agg canvas, no display, no
pyplot state shared between threads) in Noto Sans CJK, which ``scripts/setup`` installs
(``fonts-noto-cjk``), so Japanese labels are drawn, not shown as boxes.

A chart is drawn only from data; a section without data shows a sentence instead (the caller
checks ``Review.has_usage`` and the like).
"""

from __future__ import annotations

import io
from datetime import date

FONT_FAMILY = ["Noto Sans CJK JP", "DejaVu Sans"]
"""Noto Sans CJK JP first; DejaVu (matplotlib's own) for a machine without it."""
BLUE, GREEN, GREY = "#2f6fb0", "#3a9a5b", "#888888"
SIZE = (7.5, 2.8)
"""Inches: the width of an A4 page's text column, a third of its height."""


def line_chart(
    title: str,
    points: list[tuple[date, float]],
    *,
    y_label: str,
    color: str = BLUE,
    bars: bool = False,
) -> bytes:
    """A PNG of ``points`` over time (a line, or bars with ``bars``)."""
    # imported here: matplotlib takes seconds to import, which every web worker would pay at
    # start for a page few open
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE, dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days = [d for d, _v in points]
    values = [v for _d, v in points]
    if bars:
        axes.bar(days, values, width=20 if _monthly(days) else 5, color=color)
    else:
        axes.plot(days, values, color=color, linewidth=2, marker="o", markersize=3)
    axes.set_title(title, fontfamily=FONT_FAMILY, fontsize=11, loc="left")
    axes.set_ylabel(y_label, fontfamily=FONT_FAMILY, fontsize=9)
    axes.grid(axis="y", color="#dddddd")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    for label in axes.get_xticklabels() + axes.get_yticklabels():
        label.set_fontfamily(FONT_FAMILY)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _monthly(days: list[date]) -> bool:
    return len(days) > 1 and (days[1] - days[0]).days > 20
