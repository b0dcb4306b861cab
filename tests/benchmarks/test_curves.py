"""benchmarks/curves.py: growth exponents and well-formed, escaped SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import ModuleType

import pytest
from tests.benchmarks.scripts import script


def _curves() -> ModuleType:
    return script("curves")


def test_exponent_is_one_in_proportion_and_two_for_squares() -> None:
    curves = _curves()
    assert curves.exponent((1_000_000, 2.0, 100.0), (10_000_000, 20.0, 100.0), 1) == pytest.approx(
        1
    )
    assert curves.exponent((1_000_000, 2.0, 100.0), (10_000_000, 200.0, 100.0), 1) == pytest.approx(
        2
    )
    assert curves.exponent((1_000_000, 2.0, 100.0), (10_000_000, 2.0, 100.0), 2) == pytest.approx(0)


def test_chart_is_well_formed_svg_with_escaped_names() -> None:
    curves = _curves()
    series = [
        curves.Series(
            "a <b> & c", "rows", ((1_000_000, 1.0, 400.0), (10_000_000, 9.0, 900.0)), "3GB"
        ),
        curves.Series("d", "rows", ((1_000_000, 2.0, 500.0), (50_000_000, 90.0, 3000.0)), "3GB"),
    ]
    svg = curves.chart(series, 1, "Time", "s")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "a <b> & c" in texts  # escaped in the file, the same text when read
    lines = list(root.iter("{http://www.w3.org/2000/svg}polyline"))
    assert len(lines) == 4  # two series, each with its slope-1 guide
    assert (
        len(
            list(
                ET.fromstring(curves.chart(series, 2, "M", "MB", guides=False)).iter(
                    "{http://www.w3.org/2000/svg}polyline"
                )
            )
        )
        == 2
    )
    table = curves.render(series)
    assert "| d | 50,000,000 rows | 90.0 s | 0.97 |" in table


def test_series_without_memory_show_time_only() -> None:
    curves = _curves()
    nan = float("nan")
    spark = curves.Series("s", "rows", ((1_000_000, 60.0, nan), (10_000_000, 270.0, nan)), "")
    duck = curves.Series("d", "rows", ((1_000_000, 2.0, 500.0), (10_000_000, 5.0, 900.0)), "3GB")
    table = curves.render([duck, spark])
    assert "| s | 10,000,000 rows | 270.0 s | 0.65 | not measured |  |" in table
    assert "each benchmark set (d: 3GB) and spills" in table  # no limit for s


def test_a_series_keeps_its_colour_in_both_charts() -> None:
    curves = _curves()
    a = curves.Series("a", "rows", ((1_000_000, 1.0, 400.0), (10_000_000, 9.0, 900.0)), "3GB")
    b = curves.Series("b", "rows", ((1_000_000, 2.0, 500.0), (10_000_000, 20.0, 900.0)), "3GB")
    palette = {"a": ("#111111", "circle"), "b": ("#222222", "square")}
    svg = curves.chart([b], 2, "M", "MB", guides=False, palette=palette)
    colours = {
        e.get("stroke") for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}polyline")
    }
    assert colours == {"#222222"}  # b alone still draws in b's colour, not the first one
    assert "#111111" in curves.chart([a, b], 1, "T", "s", palette=palette)


def test_no_two_series_look_alike_once_the_colours_run_out() -> None:
    curves = _curves()
    pts = ((1_000_000, 1.0, 400.0), (10_000_000, 9.0, 900.0))
    many = [curves.Series(f"s{i}", "rows", pts, "3GB") for i in range(len(curves.COLOURS) + 2)]
    looks = curves.styles(many)
    assert len(set(looks.values())) == len(many)
    svg = ET.fromstring(curves.chart(many, 1, "T", "s"))
    ns = "{http://www.w3.org/2000/svg}"
    # The first colour's second series draws squares: two per series (points) + the legend's.
    first = looks["s0"][0]
    squares = [e for e in svg.iter(f"{ns}rect") if e.get("fill") == first]
    assert len(squares) == 3
