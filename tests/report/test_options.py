"""Report options (issue 18): settings in the header, --sections, the Excel export, orders-only."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import fastexcel
import pandas as pd
import pytest

import growthlens as gl
from growthlens.data.config import make_settings
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.report import build
from growthlens.report.model import Section
from growthlens.report.xlsx import cell_safe, sheet_names, write_xlsx
from growthlens.result import Result


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return gl.demo(users=2000, seed=1)


@pytest.fixture(scope="module")
def orders_only(demo: Dataset) -> Dataset:
    """The demo's orders alone: no sessions, costs, events or journeys."""
    return gl.load(orders=demo.table("orders").to_pandas())


def _with(ds: Dataset, **values: object) -> Dataset:
    merged = {**ds.settings.model_dump(exclude_unset=True), **values}
    return dataclasses.replace(ds, settings=make_settings(**merged))


def _header(ds: Dataset, **kwargs: object) -> dict[str, str]:
    return dict(build.header_lines(ds, **kwargs))  # type: ignore[arg-type]


# --- the header states every setting and where it came from ---------------------------


def test_header_always_states_margin_with_default_wording(demo: Dataset) -> None:
    header = _header(demo)
    assert header["Margin"] == "100% (default: revenue counted as profit; set --margin)"
    assert header["Currency"] == "USD (default)"
    assert header["Cohort period"] == "month (default)"
    assert header["Horizon"] == "6 months for LTV, ROMI and payback (default)"
    assert header["Window"] == "2017-06-01 – 2018-05-31 (the span the tables cover)"
    assert "Sections" not in header


def test_header_names_the_option_a_setting_came_from(demo: Dataset) -> None:
    ds = _with(demo, margin=0.375, currency="RUB", horizon=1, period="week")
    header = _header(ds, origins={"margin": "--margin", "horizon": "--horizon"})
    assert header["Margin"] == "37.5% (from --margin)"
    assert header["Horizon"] == "1 week for LTV, ROMI and payback (from --horizon)"
    # Given to the load (config or gl.load argument) without an option: "settings".
    assert header["Currency"] == "RUB (from settings)"
    assert header["Cohort period"] == "week (from settings)"
    shown = build.settings_shown(ds, {"margin": "--margin"})
    assert shown["margin"] == (0.375, "--margin")
    assert shown["window"][1] == "tables"


def test_window_setting_is_stated_as_from_settings(demo: Dataset) -> None:
    frames = {"orders": demo.table("orders").to_pandas()}
    ds = gl.load(**frames, window=("2017-07-01", "2017-09-30"))
    assert _header(ds)["Window"] == "2017-07-01 – 2017-09-30 (from settings)"
    header = _header(ds, origins={"window": "--window"})
    assert header["Window"] == "2017-07-01 – 2017-09-30 (from --window)"


# --- settings reach the analyses -------------------------------------------------------


def test_margin_scales_ltv_and_gross_profit_by_its_factor(demo: Dataset) -> None:
    full = gl.romi(demo)
    part = gl.romi(_with(demo, margin=0.35))
    # ROMI = gross profit / cost − 1 and gross profit = revenue × margin.
    assert part.summary["gross_profit"].value == pytest.approx(
        0.35 * full.summary["gross_profit"].value
    )
    assert part.summary["romi"].value + 1 == pytest.approx(0.35 * (full.summary["romi"].value + 1))
    ltv_full, ltv_part = gl.ltv(demo), gl.ltv(_with(demo, margin=0.35))
    assert ltv_part.summary["ltv_6"].value == pytest.approx(0.35 * ltv_full.summary["ltv_6"].value)


def test_currency_and_settings_reach_the_html(demo: Dataset, tmp_path: Path) -> None:
    ds = _with(demo, currency="EUR", margin=0.5)
    path = build.report(
        ds, tmp_path / "r.html", sections=["ltv"], origins={"currency": "--currency"}
    )
    html = path.read_text(encoding="utf-8")
    assert "€" in html and "EUR (from --currency)" in html and "50% (from settings)" in html
    plain = build.report(demo, tmp_path / "p.html", sections=["ltv"]).read_text(encoding="utf-8")
    assert "€" not in plain
    assert "100% (default: revenue counted as profit; set --margin)" in plain


# --- --sections --------------------------------------------------------------------------


def test_selection_of_groups_and_analyses() -> None:
    chosen = build.selection(["ltv", " Marketing ", "romi", "aov"])
    assert list(chosen) == ["sales", "marketing"]  # layout order
    assert chosen["sales"] == frozenset({"ltv", "aov"})
    assert chosen["marketing"] is None  # the whole group wins over romi alone
    assert build.selection(["sales", "ltv"])["sales"] is None


@pytest.mark.parametrize("names", [["nope"], [""], ["ltv", "Bogus"]])
def test_selection_refuses_unknown_names_listing_the_choices(names: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        build.selection(names)
    message = str(info.value)
    assert "expected report groups" in message and "marketing" in message and "ltv" in message
    assert ("'bogus'" in message) if "Bogus" in names else True


def test_sections_limits_groups_and_analyses(demo: Dataset, tmp_path: Path) -> None:
    only = build.selection(["ltv", "marketing"])
    built = build.sections(demo, only=only)
    assert [s.id for s in built] == ["sales", "marketing"]
    assert [r.name for r in built[0].results] == ["ltv"]
    assert {"costs", "cac", "romi"} <= {r.name for r in built[1].results}
    # Groups left out by choice are not reported as missing for lack of data.
    assert build.missing_groups(demo, only) == ()
    assert "Sections" in _header(demo, only=only)
    data = json.loads(
        build.report(demo, tmp_path / "r.json", format="json", sections=["aov"]).read_text()
    )
    assert list(data["sections"]) == ["aov"]
    assert data["dataset"]["settings"]["margin"] == {"value": 1.0, "from": "default"}


# --- the Excel workbook -------------------------------------------------------------------


def test_sheet_names_are_valid_unique_and_short() -> None:
    keys = ["romi heatmap:1", "romi heatmap:1", "a[b]*?/\\c", "'quoted'", "y" * 40, "y" * 45]
    names = sheet_names(keys)
    assert names == [
        "romi heatmap_1",
        "romi heatmap_1 (2)",
        "a_b_____c",
        "quoted",
        "y" * 31,
        "y" * 27 + " (2)",
    ]
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert sheet_names(["Contents", "HISTORY"]) == ["Contents (2)", "HISTORY (2)"]


def test_cells_are_formula_safe_and_typed_for_excel() -> None:
    frame = pd.DataFrame(
        {
            "text": ['=HYPERLINK("x")', "+1", "-a", "@b", "\tt", "ok", None],
            "n": [-1.5, 0.0, 1.0, 2.0, 3.0, float("nan"), 4.0],
            "ts": pd.date_range("2020-01-01", periods=7, tz="Europe/Moscow"),
            "lag": pd.to_timedelta([1, 2, 3, 4, 5, 6, 7], unit="min"),
        }
    )
    safe = cell_safe(frame)
    assert safe["text"].tolist()[:6] == ['\'=HYPERLINK("x")', "'+1", "'-a", "'@b", "'\tt", "ok"]
    assert pd.isna(safe["text"].iloc[6])  # an empty cell
    assert safe["n"].tolist()[:5] == [-1.5, 0.0, 1.0, 2.0, 3.0]  # numbers stay numbers
    assert safe["ts"].dt.tz is None and safe["ts"].iloc[0] == pd.Timestamp("2020-01-01")
    assert safe["lag"].tolist() == [60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0]


def test_xlsx_has_one_sheet_per_table_and_neutral_cells(tmp_path: Path) -> None:
    hostile = Result(
        "bad",
        "Hostile",
        pd.DataFrame({"source": ["=1+1", "ok"], "value": [1.0, 2.0]}),
        tables={"curve:1": pd.DataFrame({"age": [0, 1]})},
    )
    path = write_xlsx(
        tmp_path / "r.xlsx",
        (Section("sales", "Sales", (hostile,)),),
        title="T",
        header=(("Margin", "35% (from --margin)"),),
        generated_at=datetime(2024, 1, 2, 3, 4),
        left_out=("Budget recommendation: needs the costs table.",),
    )
    book = fastexcel.read_excel(path)
    assert book.sheet_names == ["About", "Contents", "Summary", "bad", "bad curve_1"]
    main = book.load_sheet("bad").to_pandas()
    assert main["source"].tolist() == ["'=1+1", "ok"] and main["value"].tolist() == [1.0, 2.0]
    about = book.load_sheet("About").to_pandas()
    assert about["value"].tolist() == [
        "T",
        "2024-01-02 03:04",
        "35% (from --margin)",
        "Budget recommendation: needs the costs table.",
    ]
    contents = book.load_sheet("Contents").to_pandas()
    assert contents["table"].tolist() == ["main", "curve:1"]
    assert contents["rows"].tolist() == [2, 2]


def test_xlsx_report_of_the_demo_opens_with_pandas(demo: Dataset, tmp_path: Path) -> None:
    path = build.report(demo, tmp_path / "r.xlsx", format="xlsx", sections=["ltv", "aov"])
    book = fastexcel.read_excel(path)
    assert book.sheet_names[:4] == ["About", "Contents", "Summary", "aov"]
    assert "ltv curve" in book.sheet_names
    ltv = book.load_sheet("ltv").to_pandas()
    assert len(ltv) == len(gl.ltv(demo).table)
    summary = book.load_sheet("Summary").to_pandas()
    assert {"aov", "ltv"} == set(summary["analysis"])
    # pandas reads it too when an xlsx reader is installed (openpyxl is not a dependency).
    pytest.importorskip("openpyxl")
    assert set(pd.read_excel(path, sheet_name=None)) == set(book.sheet_names)


# --- orders-only data ---------------------------------------------------------------------


def test_orders_only_report_says_what_is_skipped_and_why(
    orders_only: Dataset, tmp_path: Path
) -> None:
    built = build.sections(orders_only)
    ran = {r.name for s in built for r in s.results if r.status == "ok"}
    assert {"overview", "quality", "orders_per_buyer", "aov", "ltv"} <= ran
    skipped = [why for s in built for why in s.skipped]
    assert any(w.startswith("Conversion lag needs sessions") for w in skipped)
    # An analysis whose plan is silent on the missing table still gets a reason.
    assert "Channel economics needs the sessions table; this dataset has no sessions." in skipped
    left_out = build.missing_groups(orders_only)
    budget = next(w for w in left_out if w.startswith("Budget recommendation:"))
    assert "this dataset has no costs" in budget
    assert "no sessions to match buyers to a source" in budget  # the plan's reason too
    assert any(w.startswith("Marketing: spend, CAC and ROMI: needs the costs") for w in left_out)
    assert any(
        w.startswith("Product: activity and retention: needs the sessions") for w in left_out
    )
    html = build.report(orders_only, tmp_path / "o.html").read_text(encoding="utf-8")
    assert "Not in this report" in html and "no sessions to match buyers to a source" in html
    assert "Channel economics needs the sessions table" in html
