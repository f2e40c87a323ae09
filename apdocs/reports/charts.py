"""Print-quality charts for the QA report (matplotlib, 300 dpi PNG), each with its alt text.

matplotlib is imported here only, and only when a report is built, so ``import apdocs``
stays cheap. The Agg backend needs no display. Fonts are Liberation Sans (metric-compatible
with Arial, the forms' font) or DejaVu Sans; sizes are in points at the printed size, so
the text reads at A4 as the body text does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DPI = 300
WIDTH_IN = 6.3  # the A4 text width at 2.2 cm margins: the chart is printed at its own size
FONT = ["Liberation Sans", "DejaVu Sans"]
SEVERITY_COLOURS = {"critical": "#7f0000", "error": "#c0392b", "warning": "#e6a100", "info": "#7f8c8d"}
BLUE = "#1f4e78"


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str  # what a screen reader says instead of the picture: the chart's message and its numbers
    title: str


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": FONT,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "apdocs",
        }
    )
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # No Software/date metadata: the same data gives the same bytes.
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    from matplotlib import pyplot as plt

    plt.close(fig)  # pyplot keeps every figure alive until closed
    return buf.getvalue()


def coverage_by_school(rows: Sequence[tuple[str, int, int]]) -> Chart:
    """Horizontal bars: each school's share of placements with every required form returned."""
    plt = _pyplot()
    names = [name for name, _, _ in rows]
    pct = [100 * done / need if need else 0.0 for _, done, need in rows]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.45 * len(rows) + 0.9))
    bars = ax.barh(names, pct, color=BLUE)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel("Placements with every required form returned (%)")
    for bar, (_, done, need) in zip(bars, rows, strict=True):
        ax.text(bar.get_width() + 1.5, bar.get_y() + bar.get_height() / 2, f"{done} of {need}", va="center")
    title = "Coverage by school"
    ax.set_title(title, loc="left")
    alt = "Bar chart of coverage by school: " + "; ".join(
        f"{name}, {done} of {need} placements complete" for name, done, need in rows
    )
    return Chart(_png(fig), alt + ".", title)


def findings_by_category(counts: dict[str, dict[str, int]], severities: Sequence[str]) -> Chart:
    """Stacked horizontal bars: findings per category, split by severity."""
    plt = _pyplot()
    cats = list(counts)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.45 * len(cats) + 1.2))
    left = [0] * len(cats)
    for sev in severities:
        values = [counts[c].get(sev, 0) for c in cats]
        if any(values):
            ax.barh(cats, values, left=left, color=SEVERITY_COLOURS[sev], label=sev.capitalize())
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("Findings")
    ax.xaxis.get_major_locator().set_params(integer=True)
    # Below the plot, so it never sits on a bar.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False, ncols=len(severities))
    title = "Findings by category and severity"
    ax.set_title(title, loc="left")
    parts = []
    for c in cats:
        split = ", ".join(f"{counts[c][s]} {s}" for s in severities if counts[c].get(s))
        parts.append(f"{c}: {sum(counts[c].values())} ({split})" if split else f"{c}: 0")
    return Chart(_png(fig), "Stacked bar chart of findings by category and severity: " + "; ".join(parts) + ".", title)


def trend(labels: Sequence[str], coverage_pct: Sequence[float], serious: Sequence[int]) -> Chart:
    """Coverage (%) and critical + error findings, period by period."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.8))
    ax.plot(labels, coverage_pct, marker="o", color=BLUE, label="Coverage (%)")
    ax.set_ylim(0, 105)
    ax.set_ylabel("Coverage (%)")
    ax2 = ax.twinx()
    ax2.plot(labels, serious, marker="s", color=SEVERITY_COLOURS["error"], label="Critical and error findings")
    ax2.set_ylabel("Critical and error findings")
    ax2.set_ylim(0, max(serious or [1]) * 1.2 + 1)
    ax2.spines["right"].set_visible(True)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, ["Coverage (%)", "Critical and error findings"], loc="lower left", frameon=False)
    title = "Trend by period"
    ax.set_title(title, loc="left")
    alt = "Line chart of the trend by period: " + "; ".join(
        f"{lab}, coverage {pct:.0f}%, {n} critical and error findings"
        for lab, pct, n in zip(labels, coverage_pct, serious, strict=True)
    )
    return Chart(_png(fig), alt + ".", title)
