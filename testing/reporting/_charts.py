"""Static SVG charts for the reports, drawn with matplotlib's SVG backend.

Why matplotlib: it is the most widely maintained Python plotting library, its SVG backend emits
plain static SVG (no JavaScript, no external resources), and WeasyPrint draws that SVG in the
PDF exactly as a browser draws it in the HTML, so one chart serves both formats. Text stays text
(``svg.fonttype = none``), so it is selectable in the HTML and extractable from the PDF.

Each function takes plain numbers and returns an SVG fragment ready to inline in HTML. The
fragment is cleaned so the report stays self-contained: no XML prolog, no DOCTYPE, no RDF
metadata, no namespace URLs (an inline ``<svg>`` in HTML gets the SVG namespace from the HTML
parser) and plain ``href`` instead of ``xlink:href``. ``svg.hashsalt`` is fixed, so the same data
always gives the same bytes. Labels are never parsed as mathtext, so a ``$`` in an operation
name is just a dollar sign.

Every chart takes ``width_in``: the report draws the wide charts at :data:`WIDE_IN` for screens
and print, and again at :data:`NARROW_IN` for phones, where a wide chart shrunk to 360 px would
leave its 9 pt text about 5 px tall. Drawn narrow, the text keeps its size (the template shows
one or the other with a media query).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "NARROW_IN",
    "WIDE_IN",
    "ChartPoint",
    "latency_timeline_chart",
    "throughput_timeline_chart",
    "latency_chart",
    "throughput_chart",
    "resource_chart",
    "recovery_chart",
    "trend_chart",
    "cross_system_timeline_chart",
    "clean_svg",
]

ChartPoint = tuple[str, float]

# Restrained palette: slate for context, one blue for the measured figure, red for limits/failures.
_SLATE = "#94a3b8"
_BLUE = "#2563eb"
_NAVY = "#1e3a8a"
_RED = "#dc2626"
_GREEN = "#15803d"
_INK = "#1f2937"
_GRID = "#e5e7eb"

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "ff-platform-report",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.edgecolor": _SLATE,
    "axes.labelcolor": _INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": _GRID,
    "grid.linewidth": 0.6,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "legend.frameon": False,
    "legend.fontsize": 8,
}
WIDE_IN = 7.2
NARROW_IN = 3.9
_LABEL_CHARS = 34
_NARROW_LABEL_CHARS = 18

_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID = re.compile(r'\s+id="([^"]+)"')
_REFERENCE = re.compile(r'(?:url\(#|href="#)([^)"]+)')


def _style() -> contextlib.AbstractContextManager[None]:
    """The report's chart style, applied only while one chart is drawn (no global state)."""
    return matplotlib.rc_context(_RC)  # type: ignore[arg-type]  # stubs type keys as a Literal of every rc name


def _scope_ids(svg: str) -> str:
    """Keep element ids unique across the page's many inline charts.

    matplotlib names every group ``figure_1``, ``axes_1``, ``text_3``... in every chart, so two
    charts on one page repeat ids (invalid HTML; WeasyPrint warns per id). Ids nothing refers to
    are dropped; the referenced ones (clip paths, markers) get a prefix derived from the chart's
    content, so the same data still gives the same bytes.
    """
    scoped = set(_REFERENCE.findall(svg)) & set(_ID.findall(svg))
    svg = _ID.sub(lambda m: m.group(0) if m.group(1) in scoped else "", svg)
    if not scoped:
        return svg
    prefix = "c" + hashlib.sha1(svg.encode("utf-8", "surrogatepass")).hexdigest()[:8] + "-"
    svg = _ID.sub(lambda m: f' id="{prefix}{m.group(1)}"', svg)
    return _REFERENCE.sub(
        lambda m: m.group(0).replace("#" + m.group(1), "#" + prefix + m.group(1)) if m.group(1) in scoped else m.group(0),
        svg,
    )


def clean_svg(svg: str) -> str:
    """Strip what an inline SVG in HTML does not need and what would point outside the file."""
    svg = _PROLOG.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    svg = _NAMESPACES.sub("", svg)
    return _scope_ids(svg.replace("xlink:href=", "href=").strip())


def _render(fig: Figure, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    svg = clean_svg(buffer.getvalue())
    # An accessible name for screen readers; the title text is escaped like any label.
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _short(label: str, width_in: float = WIDE_IN) -> str:
    limit = _LABEL_CHARS if width_in >= WIDE_IN else _NARROW_LABEL_CHARS
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend_columns(width_in: float, wide: int) -> int:
    return wide if width_in >= WIDE_IN else 2


def _bar_height(rows: int) -> float:
    return 1.0 + 0.3 * max(rows, 1)


def latency_chart(
    rows: Sequence[tuple[str, float, float, float]], threshold_ms: float | None = None, *, width_in: float = WIDE_IN
) -> str:
    """Grouped horizontal bars of p50/p95/p99 latency (ms) per operation, with the p95 ceiling."""
    with _style():
        fig = Figure(figsize=(width_in, 1.1 + 0.42 * max(len(rows), 1) + (0.3 if width_in < WIDE_IN else 0)), layout="constrained")
        ax = fig.add_subplot()
        names = [_short(name, width_in) for name, *_ in rows]
        positions = list(range(len(rows)))
        height = 0.26
        for offset, index, colour, label in (
            (-height, 1, _SLATE, "p50"),
            (0.0, 2, _BLUE, "p95"),
            (height, 3, _NAVY, "p99"),
        ):
            values = [row[index] for row in rows]
            ax.barh([p + offset for p in positions], values, height=height, color=colour, label=label)
        if threshold_ms is not None:
            ax.axvline(
                threshold_ms, color=_RED, linestyle="--", linewidth=1.2, label=f"p95 ceiling {threshold_ms:g} ms"
            )
        ax.set_yticks(positions, names)
        ax.invert_yaxis()
        ax.set_xlabel("latency (ms)")
        ax.set_title("Latency percentiles per operation" if width_in >= WIDE_IN else "Latency per operation")
        ax.grid(axis="y", visible=False)
        fig.legend(loc="outside upper right", ncols=_legend_columns(width_in, 4))
        return _render(fig, "Latency percentiles per operation, milliseconds")


def throughput_chart(rows: Sequence[ChartPoint], *, width_in: float = WIDE_IN) -> str:
    """Horizontal bars of achieved throughput (operations per second) per operation."""
    with _style():
        fig = Figure(figsize=(width_in, _bar_height(len(rows))), layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(rows)))
        values = [value for _, value in rows]
        bars = ax.barh(positions, values, height=0.6, color=_BLUE)
        ax.bar_label(bars, labels=[f"{v:,.1f}" for v in values], padding=3, fontsize=8, color=_INK)
        ax.set_yticks(positions, [_short(name, width_in) for name, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("throughput (operations/s)")
        ax.set_title("Throughput per operation")
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.12)
        return _render(fig, "Throughput per operation, operations per second")


def resource_chart(samples: Sequence[tuple[float, float, float]], *, width_in: float = WIDE_IN) -> str:
    """Process CPU (%) and resident memory (MB) over the load test's elapsed seconds."""
    with _style():
        fig = Figure(figsize=(width_in, 3.6), layout="constrained")
        cpu_ax, rss_ax = fig.subplots(2, 1, sharex=True)
        elapsed = [s[0] for s in samples]
        cpu_ax.plot(elapsed, [s[1] for s in samples], color=_BLUE, linewidth=1.4)
        cpu_ax.set_ylabel("CPU (%)")
        cpu_ax.set_title("CPU and memory of the test process during the load" if width_in >= WIDE_IN else "CPU and memory")
        cpu_ax.set_ylim(bottom=0)
        rss_ax.plot(elapsed, [s[2] for s in samples], color=_NAVY, linewidth=1.4)
        rss_ax.set_ylabel("RSS (MB)")
        rss_ax.set_xlabel("elapsed (s)")
        rss_ax.set_ylim(bottom=0)
        return _render(fig, "CPU percent and resident memory in megabytes over elapsed seconds")


def recovery_chart(rows: Sequence[tuple[str, float, bool]], *, width_in: float = WIDE_IN) -> str:
    """Horizontal bars of recovery time (s) per failure scenario; red where the scenario failed."""
    with _style():
        fig = Figure(figsize=(width_in, _bar_height(len(rows))), layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(rows)))
        values = [seconds for _, seconds, _ in rows]
        colours = [_BLUE if ok else _RED for _, _, ok in rows]
        bars = ax.barh(positions, values, height=0.6, color=colours)
        ax.bar_label(bars, labels=[f"{v:.2f} s" for v in values], padding=3, fontsize=8, color=_INK)
        ax.set_yticks(positions, [_short(name, width_in) for name, _, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("time to recover (s)")
        ax.set_title("Recovery time per failure scenario" if width_in >= WIDE_IN else "Recovery time")
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.15)
        return _render(fig, "Recovery time per failure scenario, seconds")


def throughput_timeline_chart(
    slices: Sequence[tuple[float, float, float]], target_ops: float | None = None, *, width_in: float = WIDE_IN
) -> str:
    """Completed and failed requests per second over the load (``(start s, ok/s, errors/s)`` per slice)."""
    with _style():
        fig = Figure(figsize=(width_in, 2.6), layout="constrained")
        ax = fig.add_subplot()
        starts = [start for start, _, _ in slices]
        if len(starts) >= 2:  # the last slice ends one slice width after it starts
            starts.append(starts[-1] + (starts[-1] - starts[-2]))
        ok = [value for _, value, _ in slices]
        errors = [err for _, _, err in slices]
        ax.step(starts, ok + ok[-1:], where="post", color=_BLUE, linewidth=1.5, label="completed/s")
        if any(errors):
            ax.step(starts, errors + errors[-1:], where="post", color=_RED, linewidth=1.2, label="errors/s")
        if target_ops:
            ax.axhline(target_ops, color=_SLATE, linestyle="--", linewidth=1.0, label=f"target {target_ops:g}/s")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.set_xlabel("elapsed (s)")
        ax.set_ylabel("requests/s")
        ax.set_title("Throughput over time")
        fig.legend(loc="outside upper right", ncols=_legend_columns(width_in, 3))
        return _render(fig, "Completed and failed requests per second over the elapsed seconds of the load")


def latency_timeline_chart(
    slices: Sequence[tuple[float, float, float, float, float]],
    threshold_ms: float | None = None,
    *,
    width_in: float = WIDE_IN,
) -> str:
    """p50/p90/p95/p99 latency (ms) of each slice over the load (``(start s, p50, p90, p95, p99)``)."""
    with _style():
        fig = Figure(figsize=(width_in, 2.8), layout="constrained")
        ax = fig.add_subplot()
        starts = [row[0] for row in slices]
        for index, colour, label in ((1, _SLATE, "p50"), (2, "#60a5fa", "p90"), (3, _BLUE, "p95"), (4, _NAVY, "p99")):
            ax.plot(starts, [row[index] for row in slices], color=colour, linewidth=1.4, marker="o", markersize=2, label=label)
        if threshold_ms is not None:
            ax.axhline(threshold_ms, color=_RED, linestyle="--", linewidth=1.1, label=f"p95 ceiling {threshold_ms:g} ms")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.set_xlabel("elapsed (s)")
        ax.set_ylabel("latency (ms)")
        ax.set_title("Latency over time")
        fig.legend(loc="outside upper right", ncols=_legend_columns(width_in, 5))
        return _render(fig, "Latency percentiles in milliseconds per slice over the elapsed seconds of the load")


def trend_chart(points: Sequence[ChartPoint], *, title: str, unit: str, good_up: bool = True) -> str:
    """A small line chart of one figure over the last runs, oldest left; the latest point marked."""
    with _style():
        fig = Figure(figsize=(3.4, 1.9), layout="constrained")
        ax = fig.add_subplot()
        xs = list(range(len(points)))
        ys = [value for _, value in points]
        ax.plot(xs, ys, color=_BLUE, linewidth=1.4, marker="o", markersize=3)
        if len(ys) >= 2:
            better = (ys[-1] >= ys[-2]) == good_up
            ax.plot([xs[-1]], [ys[-1]], marker="o", markersize=6, color=_GREEN if better else _RED)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(unit)
        ax.set_xlabel("run (oldest → latest)")
        ax.set_xticks(xs, [str(i + 1) for i in xs])
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.grid(axis="x", visible=False)
        if ys and min(ys) >= 0:
            ax.set_ylim(bottom=0, top=max(ys) * 1.15 or 1.0)
        return _render(fig, f"{title} ({unit}) over the last {len(points)} runs")


_MARK_COLOURS = {"fault": _RED, "cleared": _SLATE, "recovered": _GREEN, "ejected": "#b45309", "returned": _GREEN,
                 "breaker_open": "#7c2d12"}


def cross_system_timeline_chart(
    slices: Sequence[tuple[float, float, float, float | None]],
    marks: Sequence[tuple[float, str, str]] = (),
    threshold_ms: float | None = None,
    *,
    width_in: float = WIDE_IN,
) -> str:
    """The cross-system run second by second: successes and errors per second on top, p95 below,
    with vertical marks where faults were injected or cleared and endpoints ejected or returned.

    ``slices`` are ``(start s, ok/s, errors/s, p95 ms or None)``; ``marks`` ``(at s, kind, label)``.
    Marks of one kind share a colour and a legend entry; labels of faults are written on the plot.
    """
    with _style():
        fig = Figure(figsize=(width_in, 4.2), layout="constrained")
        rate_ax, p95_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        starts = [row[0] for row in slices]
        if len(starts) >= 2:
            starts.append(starts[-1] + (starts[-1] - starts[-2]))
        ok = [row[1] for row in slices]
        errors = [row[2] for row in slices]
        if ok:
            rate_ax.step(starts, ok + ok[-1:], where="post", color=_BLUE, linewidth=1.4, label="ok/s")
            rate_ax.step(starts, errors + errors[-1:], where="post", color=_RED, linewidth=1.1, label="errors/s")
        p95_points = [(row[0], row[3]) for row in slices if row[3] is not None]
        p95_ax.plot([x for x, _ in p95_points], [y for _, y in p95_points], color=_NAVY, linewidth=1.3, marker="o",
                    markersize=2, label="p95")
        if threshold_ms is not None:
            p95_ax.axhline(threshold_ms, color=_RED, linestyle="--", linewidth=1.0, label=f"{threshold_ms:g} ms")
        seen: set[str] = set()
        top = max(ok + errors, default=1.0) or 1.0
        for at, kind, label in marks:
            colour = _MARK_COLOURS.get(kind, _SLATE)
            style = "-" if kind == "fault" else ":"
            for ax in (rate_ax, p95_ax):
                ax.axvline(at, color=colour, linestyle=style, linewidth=0.9,
                           label=kind if (kind not in seen and ax is rate_ax) else None)
            seen.add(kind)
            if kind == "fault" and width_in >= WIDE_IN:
                rate_ax.text(at, top * 1.08, label[:24], rotation=90, fontsize=6, color=colour, va="bottom", ha="right",
                             clip_on=True)
        rate_ax.set_ylim(bottom=0, top=top * (2.4 if marks else 1.15))
        rate_ax.set_xlim(left=0)
        rate_ax.set_ylabel("requests/s")
        rate_ax.set_title("Cross-system load: throughput, errors and p95 per second" if width_in >= WIDE_IN else "Cross-system load")
        p95_ax.set_ylim(bottom=0)
        p95_ax.set_ylabel("p95 (ms)")
        p95_ax.set_xlabel("elapsed (s)")
        fig.legend(loc="outside upper right", ncols=_legend_columns(width_in, 6))
        return _render(fig, "Cross-system load per second: successes, errors and p95 latency, with faults and ejections marked")
