"""Scaling curves: time and peak memory against rows, from the stored benchmark results.

Reads what the benchmarks stored in benchmarks/data/ (nothing is run here):

- ``funnel_breakdown.json``: the 5-step funnel by device (``gl.load`` + ``gl.funnel``);
- ``unit_economics-<shape>.json``: load + unit economics on each stored shape;
- ``report.json``, ``report-<shape>.json``: the whole report (load, every group, the HTML
  file) on the demo and on each other shape;
- ``sweep.json``: attribution, reconciliation and experiments (load + analysis).

Writes two SVG charts to docs/img/ (log-log: a straight line of slope 1 is time in
proportion to the rows; each series has a dashed guide of slope 1 through its smallest
size) and the section "## Scaling curves" of docs/benchmarks.md with the growth exponents
between sizes (log of the time ratio over log of the row ratio: 1 is linear).

    python benchmarks/curves.py
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from datetime import date
from html import escape

from common import DATA, ROOT, SIZES, write_section

HEADING = "## Scaling curves (time and memory against rows)"
IMAGES = ROOT / "docs" / "img"
COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#000000",
)
MARKERS = ("circle", "square", "diamond")
"""A series' point marker: the next shape once every colour is taken, so no two series of
one chart look alike (13 series, 11 colours)."""
SWEEP = {
    # family: (series name, what a row is, sessions of the sweep's size per row)
    "attribution": ("attribution (load + every model)", "sessions", 1),
    "reconcile": ("reconciliation (load + reconcile)", "orders per side", 5),
    "experiments": ("A/B test + campaign effect (load + both)", "order lines", 1),
}


@dataclass(frozen=True)
class Series:
    """One benchmark's measured points: rows, median wall seconds, peak RSS in MB."""

    name: str
    unit: str  # what a row is
    points: tuple[tuple[int, float, float], ...]
    memory_limit: str  # DuckDB's, as the benchmark set it; "" when memory was not measured


def load_series() -> list[Series]:
    """The stored results with at least two sizes, smallest size first."""
    out: list[Series] = []
    funnel = DATA / "funnel_breakdown.json"
    if funnel.exists():
        stored_funnel = json.loads(funnel.read_text())
        rows = stored_funnel["rows"]
        points = [
            (
                int(r["size"]),
                r["growthlens"]["load_s"] + r["growthlens"]["funnel_s"],
                float(r["growthlens"]["peak_rss_mb"]),
            )
            for r in rows
        ]
        name = "funnel by device (load + funnel)"
        limit = str(stored_funnel.get("memory_limit", "default"))
        out.append(Series(name, "events", tuple(sorted(points)), limit))
    for path in sorted(DATA.glob("unit_economics-*.json")):
        stored = json.loads(path.read_text())
        points = []
        for entry in stored["sizes"].values():
            median = statistics.median_low(entry["growthlens_totals"])
            points.append((int(entry["sessions"]), median, float(entry["growthlens_peak_rss_mb"])))
        name = f"unit economics, {stored['shape']} (load + 6 analyses)"
        limit = str(stored.get("memory_limit", "default"))
        out.append(Series(name, "sessions", tuple(sorted(points)), limit))
        # The same step on Spark local[2], one run per size; the JVM's memory is not measured.
        spark = [
            (int(e["sessions"]), float(sum(e["spark"]["timings"].values())), math.nan)
            for e in stored["sizes"].values()
            if "spark" in e
        ]
        name = f"unit economics, {stored['shape']}, Spark local[2]"
        out.append(Series(name, "sessions", tuple(sorted(spark)), ""))
    out.extend(_report_and_sweep())
    return [s for s in out if len(s.points) >= 2]


def _report_and_sweep() -> list[Series]:
    """The whole report's runs, and the sweep's JSON families (one run per size)."""
    out: list[Series] = []
    # The demo's runs in report.json, every other shape's in report-<shape>.json.
    for report in sorted(DATA.glob("report*.json")):
        stored = json.loads(report.read_text())
        points = [
            (int(e["run"]["sessions"]), statistics.median_low(e["totals"]), float(e["peak_rss_mb"]))
            for e in stored["sizes"].values()
        ]
        limit = str(stored.get("memory_limit", "default"))
        shape = stored.get("shape", "demo")
        name = "the whole report (load, every group, HTML)"
        name = name if shape == "demo" else f"the whole report, {shape}"
        out.append(Series(name, "sessions", tuple(sorted(points)), limit))
    sweep = DATA / "sweep.json"
    families = json.loads(sweep.read_text()) if sweep.exists() else {}
    for family, (name, unit, per) in SWEEP.items():
        sizes = families.get(family, {})
        points = [
            (SIZES[size] // per, float(e["growthlens_s"]), float(e["growthlens_rss_mb"]))
            for size, e in sizes.items()
        ]
        limits = {str(e.get("memory_limit") or "default") for e in sizes.values()}
        limit = limits.pop() if len(limits) == 1 else "mixed"
        out.append(Series(name, unit, tuple(sorted(points)), limit))
    return out


def _millions(rows: int) -> str:
    return f"{rows / 1e6:g}M"


def exponent(a: tuple[int, float, float], b: tuple[int, float, float], at: int) -> float:
    """log(value ratio) / log(row ratio) between two points (``at``: 1 time, 2 memory)."""
    return math.log(b[at] / a[at]) / math.log(b[0] / a[0])


def _ticks(lo: float, hi: float) -> list[float]:
    out = []
    for power in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**power
            if lo <= v <= hi:
                out.append(v)
    return out


def _label(v: float, unit: str) -> str:
    if unit == "rows":
        return f"{v / 1e6:g}M"
    if unit == "MB" and v >= 1000:
        return f"{v / 1000:g} GB"
    return f"{v:g} {unit}"


def styles(series: list[Series]) -> dict[str, tuple[str, str]]:
    """Each series' colour and marker by name: the colours in turn, then the next marker."""
    return {
        s.name: (COLOURS[i % len(COLOURS)], MARKERS[i // len(COLOURS) % len(MARKERS)])
        for i, s in enumerate(series)
    }


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """One point's marker, about 8 px across, centred on (x, y)."""
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def chart(
    series: list[Series],
    at: int,
    title: str,
    unit: str,
    *,
    guides: bool = True,
    palette: dict[str, tuple[str, str]] | None = None,
) -> str:
    """A log-log SVG line chart of value ``at`` (1 seconds, 2 MB) against rows.

    ``guides``: draw each series' slope-1 line through its smallest size. ``palette``:
    each series' colour and marker by name (:func:`styles`), so a series looks the same in
    both charts.
    """
    palette = palette or styles(series)
    # The legend sits right of the plot: a dozen series would cover their own lines inside it.
    width, height = 1060, 440
    left, right, top, bottom = 80, 320, 50, 60
    key = width - right + 16
    xs = [p[0] for s in series for p in s.points]
    ys = [p[at] for s in series for p in s.points]
    if guides:  # each guide ends at its first value grown in proportion: keep it in the plot
        ys += [s.points[0][at] * s.points[-1][0] / s.points[0][0] for s in series]
    x_lo, x_hi = min(xs) / 1.3, max(xs) * 1.3
    y_lo, y_hi = min(ys) / 1.6, max(ys) * 2.5

    def px(v: float) -> float:
        return left + (math.log(v) - math.log(x_lo)) / math.log(x_hi / x_lo) * (
            width - left - right
        )

    def py(v: float) -> float:
        return (
            height
            - bottom
            - (math.log(v) - math.log(y_lo)) / math.log(y_hi / y_lo) * (height - top - bottom)
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    for v in _ticks(x_lo, x_hi):
        x = px(v)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle">'
            f"{_label(v, 'rows')}</text>"
        )
    for v in _ticks(y_lo, y_hi):
        y = py(v)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_label(v, unit)}</text>'
        )
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 18}" text-anchor="middle">'
        "rows (events, sessions, orders or order lines), log scale</text>"
    )
    for i, s in enumerate(series):
        colour, marker = palette[s.name]
        first = s.points[0]
        # The guide: the first point's value grown in proportion to the rows.
        guide = [(first[0], first[at]), (s.points[-1][0], first[at] * s.points[-1][0] / first[0])]
        if guides:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-opacity="0.45" '
                f'stroke-dasharray="5 4" points="'
                + " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in guide)
                + '"/>'
            )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="'
            + " ".join(f"{px(p[0]):.1f},{py(p[at]):.1f}" for p in s.points)
            + '"/>'
        )
        for p in s.points:
            parts.append(_marker(marker, px(p[0]), py(p[at]), colour))
        ly = top + 14 + 18 * i
        parts.append(
            f'<line x1="{key}" x2="{key + 24}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2.5"/>'
        )
        parts.append(_marker(marker, key + 12, ly - 4, colour))
        parts.append(f'<text x="{key + 30}" y="{ly}">{escape(s.name)}</text>')
    if guides:
        ly = top + 14 + 18 * len(series)
        parts.append(
            f'<line x1="{key}" x2="{key + 24}" y1="{ly - 4}" y2="{ly - 4}" stroke="#777" '
            'stroke-dasharray="5 4"/>'
        )
        parts.append(f'<text x="{key + 30}" y="{ly}">in proportion to the rows (slope 1)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render(series: list[Series]) -> str:
    lines = [
        HEADING,
        "",
        f"Drawn {date.today().isoformat()} by `python benchmarks/curves.py` from the stored "
        "results of the benchmarks above (median runs; nothing is re-run). Both axes are "
        "logarithmic: a series parallel to its dashed guide grows in proportion to the rows.",
        "",
        "![Time against rows](img/scaling-time.svg)",
        "",
        "![Peak memory against rows](img/scaling-memory.svg)",
        "",
        "Growth exponents between consecutive sizes (log of the ratio of times, or of peak "
        "RSS, over log of the ratio of rows: 1 = in proportion, below 1 = fixed costs still "
        "weigh, above 1 = faster than the rows):",
        "",
        "| series | rows | time | exponent (time) | peak RSS | exponent (memory) |",
        "|---|---|---|---|---|---|",
    ]
    for s in series:
        for i, p in enumerate(s.points):
            step = (
                (f"{exponent(s.points[i - 1], p, 1):.2f}", f"{exponent(s.points[i - 1], p, 2):.2f}")
                if i
                else ("", "")
            )
            memory = f"{p[2]:,.0f} MB | {step[1]}" if s.memory_limit else "not measured | "
            lines.append(f"| {s.name} | {p[0]:,} {s.unit} | {p[1]:.1f} s | {step[0]} | {memory} |")
    faster = [
        f"{s.name} from {_millions(a[0])} to {_millions(b[0])} ({exponent(a, b, 1):.2f})"
        for s in series
        for a, b in zip(s.points, s.points[1:], strict=False)
        if exponent(a, b, 1) > 1.05
    ]
    lines += [
        "",
        "Time grows faster than the rows (exponent above 1.05) for: " + "; ".join(faster) + "."
        if faster
        else "Time grows at most in proportion to the rows between every pair of sizes.",
        "",
        "Memory grows slower than the rows: DuckDB works within the memory limit each "
        "benchmark set ("
        + "; ".join(f"{s.name}: {s.memory_limit}" for s in series if s.memory_limit)
        + ") and spills or streams beyond it; the rest of the peak is Python and the "
        "fetched frames. Spark's series are time only: its work runs in a JVM beside the "
        "Python process, whose peak RSS would not show it.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    series = load_series()
    if not series:
        raise SystemExit("no stored results with two sizes or more in benchmarks/data/")
    IMAGES.mkdir(parents=True, exist_ok=True)
    palette = styles(series)
    (IMAGES / "scaling-time.svg").write_text(
        chart(series, 1, "Wall time against rows (median runs)", "s", palette=palette)
    )
    measured = [s for s in series if s.memory_limit]
    (IMAGES / "scaling-memory.svg").write_text(
        chart(measured, 2, "Peak memory (RSS) against rows", "MB", guides=False, palette=palette)
    )
    write_section(HEADING, render(series))


if __name__ == "__main__":
    main()
