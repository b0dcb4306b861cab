"""The growthlens CLI: commands, files written and exit codes (0 ok, 1 findings, 2 usage/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.cli import main
from tests.report.conftest import tiny_frames


@pytest.fixture
def tiny_files(tmp_path: Path) -> dict[str, Path]:
    """The tiny report fixture as CSVs: orders has 1 negative revenue (error) and 1 out-of-window
    row, sessions one end-before-start row (warning)."""
    paths = {}
    for name, frame in tiny_frames().items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture
def clean_files(tmp_path: Path) -> dict[str, Path]:
    path = tmp_path / "clean_sessions.csv"
    pd.DataFrame({"user_id": [1, 2], "start_ts": ["2020-01-01 10:00", "2020-01-02 10:00"]}).to_csv(
        path, index=False
    )
    return {"sessions": path}


def test_report_demo_writes_html_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "report.html"
    code = main(["report", "--demo", "--users", "200", "--seed", "1", "-o", str(out), "--json"])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert {"overview", "quality"} <= set(data["sections"])
    assert data["dataset"]["window"] == ["2017-06-01", "2018-05-31"]
    stdout = capsys.readouterr().out
    assert "Wrote" in stdout and "report.html" in stdout


def test_report_from_files(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code = main(
        [
            "report",
            "--sessions",
            str(tiny_files["sessions"]),
            "--orders",
            str(tiny_files["orders"]),
            "-o",
            str(out),
        ]
    )
    assert code == 0 and out.stat().st_size > 1_000_000


def test_demo_writes_files(tmp_path: Path) -> None:
    code = main(["demo", "--out", str(tmp_path / "d"), "--users", "200", "--format", "csv"])
    assert code == 0
    assert {p.name for p in (tmp_path / "d").iterdir()} >= {
        "visits.csv",
        "orders.csv",
        "costs.csv",
        "truth.json",
    }


def test_check_exit_codes(
    tiny_files: dict[str, Path], clean_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    files = ["--sessions", str(tiny_files["sessions"]), "--orders", str(tiny_files["orders"])]
    assert main(["check", *files]) == 1  # default --fail-on error; 1 of 3 orders is negative
    assert "FAIL" in capsys.readouterr().out
    assert main(["check", *files, "--fail-on", "error"]) == 1  # negative revenue is an error
    assert main(["check", *files, "--fail-on", "none"]) == 0
    # orders exclude 2 of 3 rows: over a 1% limit
    assert main(["check", *files, "--fail-on", "none", "--max-excluded-share", "0.01"]) == 1
    out = capsys.readouterr().out
    assert "orders excludes 66.7% of its rows" in out
    assert main(["check", *files, "--fail-on", "none", "--max-excluded-share", "0.7"]) == 0
    assert main(["check", "--sessions", str(clean_files["sessions"])]) == 0
    assert "No findings" in capsys.readouterr().out


def test_check_prints_findings_as_a_table(
    tiny_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        ["check", "--sessions", str(tiny_files["sessions"]), "--orders", str(tiny_files["orders"])]
    )
    out = capsys.readouterr().out
    for word in (
        "Rows per table",
        "Findings",
        "negative_revenue",
        "out_of_window",
        "end_before_start",
    ):
        assert word in out


def test_missing_file_is_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # keep the long temporary path on one line
    missing = tmp_path / "no_such_visits.csv"
    assert main(["report", "--sessions", str(missing)]) == 2
    assert "no_such_visits.csv" in capsys.readouterr().err


def test_unwritable_output_is_exit_2_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the output's folder should be: a usage error naming both, raised
    before any data is loaded."""
    import growthlens.cli as cli

    def no_loading(**_: object) -> None:
        raise AssertionError("the output path is checked before loading")

    monkeypatch.setattr(cli, "_dataset", no_loading)
    monkeypatch.setenv("COLUMNS", "400")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    code = main(["report", "--demo", "--users", "200", "-o", str(blocker / "r.html")])
    captured = capsys.readouterr()
    assert code == 2
    assert "cannot write the report to" in captured.err
    assert "notes.txt is a file, not a folder" in captured.err
    assert "Traceback" not in captured.err


def test_no_data_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 2
    assert "no data" in capsys.readouterr().err
    assert main(["report", "--bogus"]) == 2


def test_data_error_is_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "visits.csv"
    pd.DataFrame({"who": [1], "when": ["2020-01-01"]}).to_csv(bad, index=False)
    assert main(["check", "--sessions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Error" in err and "visits.csv" in err
    assert "Traceback" not in err


def test_debug_reraises(tmp_path: Path) -> None:
    bad = tmp_path / "visits.csv"
    pd.DataFrame({"who": [1], "when": ["2020-01-01"]}).to_csv(bad, index=False)
    with pytest.raises(gl.DataError):
        main(["check", "--sessions", str(bad), "--debug"])


def test_bad_config_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "growthlens.toml"
    config.write_text("[settings]\nmargin = 7\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert "margin" in capsys.readouterr().err


def test_unknown_backend_lists_the_accepted_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--demo", "--users", "100", "--backend", "foo"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot connect to backend 'foo'" in err
    assert "Use 'duckdb' (the default), 'pyspark', or an Ibis connection URL" in err


def test_data_is_printed_as_plain_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """':x:' in the data stays ':x:' (Rich would print an emoji), '[red]' stays literal."""
    orders = tmp_path / "orders.csv"
    orders.write_text("Uid,Buy Ts,Revenue\n1,:x:,5\n2,[red]boom[/red],5\n", encoding="utf-8")
    assert main(["check", "--orders", str(orders)]) == 2
    err = capsys.readouterr().err
    assert "':x:'" in err and "\u274c" not in err
    assert "[red]boom[/red]" in err


def test_an_empty_source_list_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "growthlens.toml"
    config.write_text("[orders]\nsources = []\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert "[orders] sources: no source given" in capsys.readouterr().err


def test_check_shows_where_unreadable_lines_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "Uid,Buy Ts,Revenue\n1,2020-01-01 10:00,5\n2,2020-01-01 10:00,5,9\n", encoding="utf-8"
    )
    assert main(["check", "--orders", str(orders)]) == 1
    out = capsys.readouterr().out
    assert "orders.csv line 3: too many columns: 2,2020-01-01 10:00,5,9" in out


def test_check_shows_tracking_findings_of_the_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """More purchasers than page viewers on a day: an impossible relation, printed in the
    tracking table and failing the check; without it, the check passes."""
    events = tmp_path / "events.csv"
    pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "ts": ["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-02 11:00", "2024-01-02 12:00"],
            "event": ["page_view", "page_view", "purchase", "purchase"],
        }
    ).to_csv(events, index=False)
    assert main(["check", "--events", str(events)]) == 1
    out = capsys.readouterr().out
    assert "Tracking anomalies" in out and "impossible_relation" in out
    assert "orphan_steps" in out  # user 3 bought with no page view before
    assert main(["check", "--events", str(events), "--fail-on", "none"]) == 0
    fine = tmp_path / "fine.csv"
    pd.DataFrame(
        {
            "user_id": [1, 1],
            "ts": ["2024-01-02 10:00", "2024-01-02 10:05"],
            "event": ["page_view", "purchase"],
        }
    ).to_csv(fine, index=False)
    assert main(["check", "--events", str(fine)]) == 0
    assert "Tracking anomalies" in capsys.readouterr().out


def test_demo_case_shop_writes_the_folder_and_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --case shop` writes the case's folder; `report <folder>` and
    `report --demo --case shop` both report the A/B test and the campaign."""
    # Registers the two analyses for the report until growthlens.analyses imports them.
    import growthlens.analyses.ab_test
    import growthlens.analyses.campaign_effect  # noqa: F401

    folder = tmp_path / "shop"
    assert (
        main(["demo", "--case", "shop", "--users", "2000", "--seed", "3", "--out", str(folder)])
        == 0
    )
    assert {p.name for p in folder.iterdir()} == {
        "shop_database.db",
        "personal_data.csv.gz",
        "ids_first_company_positive.txt",
        "ids_first_company_negative.txt",
        "growthlens.toml",
        "truth.json",
        "truth_customers.csv.gz",
    }
    assert json.loads((folder / "truth.json").read_text(encoding="utf-8"))["shop_customers"] == 2000
    assert f"Next: growthlens report {folder}" in capsys.readouterr().out
    from_folder, from_demo = tmp_path / "a.html", tmp_path / "b.html"
    assert main(["report", str(folder), "-o", str(from_folder)]) == 0
    code = main(
        [
            "report",
            "--demo",
            "--case",
            "shop",
            "--users",
            "2000",
            "--seed",
            "3",
            "-o",
            str(from_demo),
        ]
    )
    assert code == 0
    for path in (from_folder, from_demo):
        html = path.read_text(encoding="utf-8")
        assert "Email discount (first campaign)" in html and "Billboards in city 1134" in html


def test_demo_case_shop_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "d")
    assert main(["demo", "--case", "shop", "--users", "500", "--out", out]) == 2
    assert main(["demo", "--case", "shop", "--months", "6", "--out", out]) == 2
    assert main(["demo", "--case", "other", "--out", out]) == 2
    assert not (tmp_path / "d").exists()
    # --case chooses demo data: without --demo it is a usage error.
    orders = tmp_path / "orders.csv"
    orders.write_text("user_id,ts,revenue\n1,2024-01-01,5\n", encoding="utf-8")
    assert main(["report", "--case", "shop", "--orders", str(orders)]) == 2
    assert "use it with --demo" in capsys.readouterr().err
    assert main(["check", "--demo", "--case", "shop", "--users", "1000", "--fail-on", "none"]) == 0
    assert "assignments" in capsys.readouterr().out


def test_report_exports_writes_each_downloadable_table(
    tiny_files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from growthlens.report import build
    from growthlens.report.model import Section
    from growthlens.result import Result

    table = pd.DataFrame({"user_id": ["=cmd()", "2"], "score": [0.9, 0.1]})
    result = Result(
        "propensity",
        "Propensity",
        pd.DataFrame({"a": [1]}),
        tables={"target_list": table},
        detail=("target_list",),
        downloads=("target_list",),
    )
    built = (Section("customers", "Customers", (result,)),)
    monkeypatch.setattr(build, "sections", lambda ds, progress=None: built)
    data = ["--sessions", str(tiny_files["sessions"]), "--orders", str(tiny_files["orders"])]
    out, folder = tmp_path / "r.html", tmp_path / "exports" / "new"
    assert main(["report", *data, "-o", str(out), "--exports", str(folder)]) == 0
    path = folder / "target_list.csv"
    assert path.read_bytes() == b"user_id,score\r\n'=cmd(),0.9\r\n2,0.1\r\n"
    stdout = capsys.readouterr().out
    assert f"Wrote {path}" in stdout and "2 rows of Propensity" in stdout
    assert 'download="target_list.csv"' in out.read_text(encoding="utf-8")
    # nothing to export: said, and no folder made
    monkeypatch.setattr(build, "sections", lambda ds, progress=None: ())
    none = tmp_path / "none"
    assert main(["report", *data, "-o", str(out), "--exports", str(none)]) == 0
    assert "nothing written" in capsys.readouterr().out and not none.exists()
    # a file where the folder should be: an error before any work
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    assert main(["report", *data, "-o", str(out), "--exports", str(blocker / "sub")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


# --- report options (issue 18) ------------------------------------------------------------


def _report_json(path: Path, *options: str) -> dict[str, object]:
    code = main(["report", "--demo", "--users", "2000", "--seed", "1", "-o", str(path), *options])
    assert code == 0
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_report_options_reach_the_analyses_and_the_header(tmp_path: Path) -> None:
    picked = ("--format", "json", "--sections", "ltv,romi")
    base = _report_json(tmp_path / "a.json", *picked)
    given = _report_json(
        tmp_path / "b.json",
        *picked,
        *("--margin", "35%", "--currency", "rub", "--horizon", "3", "--period", "week"),
    )
    sections_a, sections_b = base["sections"], given["sections"]
    assert isinstance(sections_a, dict) and isinstance(sections_b, dict)
    assert list(sections_b) == ["ltv", "romi"]  # --sections: nothing else ran
    params = sections_b["ltv"]["params"]
    assert {k: params[k] for k in ("period", "margin", "horizon")} == {
        "period": "week",
        "margin": 0.35,
        "horizon": 3,
    }
    assert sections_b["romi"]["params"]["horizon"] == 3
    # Margin scales gross profit: at the same period and horizon, (ROMI + 1) × 0.35.
    same = _report_json(tmp_path / "c.json", *picked, "--margin", "0.35")
    romi_full = sections_a["romi"]["summary"]["romi"]["value"]
    romi_part = same["sections"]["romi"]["summary"]["romi"]["value"]  # type: ignore[index]
    assert romi_part + 1 == pytest.approx(0.35 * (romi_full + 1))
    ltv_full = sections_a["ltv"]["summary"]["ltv_6"]["value"]
    assert same["sections"]["ltv"]["summary"]["ltv_6"]["value"] == pytest.approx(  # type: ignore[index]
        0.35 * ltv_full
    )
    settings = given["dataset"]["settings"]  # type: ignore[index]
    assert settings["margin"] == {"value": 0.35, "from": "--margin"}
    assert settings["currency"] == {"value": "RUB", "from": "--currency"}
    assert settings["period"] == {"value": "week", "from": "--period"}
    assert settings["horizon"] == {"value": 3, "from": "--horizon"}
    assert base["dataset"]["settings"]["margin"] == {"value": 1.0, "from": "default"}  # type: ignore[index]


def test_report_html_header_states_margin_and_currency(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code = main(
        ["report", "--demo", "--users", "2000", "--sections", "aov", "-o", str(out),
         "--margin", "35%", "--currency", "EUR"]
    )  # fmt: skip
    html = out.read_text(encoding="utf-8")
    assert code == 0 and "35% (from --margin)" in html and "EUR (from --currency)" in html
    assert "€" in html  # money shown with the currency's symbol


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--margin", "35"], ["'--margin'", "(0, 1]", "'35'", "did you mean 35%?"]),
        (["--margin", "0"], ["'--margin'", "(0, 1]", "'0'"]),
        (["--margin", "lots"], ["'--margin'", "0.35 or 35%", "'lots'"]),
        (["--currency", "rubles"], ["'--currency'", "three-letter", "'rubles'"]),
        (["--horizon", "0"], ["'--horizon'", "from 1 to 120", "'0'"]),
        (["--period", "year"], ["'--period'", "'year'", "day", "week", "month"]),
        (["--window", "2017-06-01", "soon"], ["'--window'", "two dates", "'soon'"]),
        (["--window", "2017-06-01", "5"], ["'--window'", "not one of each"]),
        (["--window", "2018-01-01", "2017-06-01"], ["'--window'", "starts after it ends"]),
        (["--sections", "ltv,nope"], ["'--sections'", "'nope'", "marketing", "romi"]),
        (["--format", "pdf"], ["'--format'", "'pdf'", "xlsx"]),
        (["--window", "2017-06-01", "2017-07-01"], ["'--window'", "--months"]),
    ],
)
def test_report_bad_option_is_exit_2_naming_option_expected_and_found(
    options: list[str],
    words: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import growthlens.cli as cli

    def no_loading(**_: object) -> None:
        raise AssertionError("a bad option is refused before loading")

    monkeypatch.setattr(cli, "_dataset", no_loading)
    monkeypatch.setenv("COLUMNS", "400")
    code = main(["report", "--demo", "--users", "200", "-o", str(tmp_path / "r.html"), *options])
    err = capsys.readouterr().err
    assert code == 2, err
    for word in words:
        assert word in err, (word, err)
    assert "Traceback" not in err


def test_report_window_from_files_excludes_rows_and_says_so(
    tiny_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    files = ["--sessions", str(tiny_files["sessions"]), "--orders", str(tiny_files["orders"])]
    code = main(
        ["report", *files, "--window", "2020-01-02", "2020-01-04", "--format", "json",
         "-o", str(out)]
    )  # fmt: skip
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["dataset"]["window"] == ["2020-01-02", "2020-01-04"]
    assert data["dataset"]["window_source"] == "setting"
    assert data["dataset"]["settings"]["window"]["from"] == "--window"
    # Sessions on 01-02 and 01-03 (01-01 and 01-05 fall outside; the 01-03 one, ending
    # before it starts, is kept flagged); the 01-01 and 01-09 orders are outside the window
    # and the -5.0 one is negative.
    assert data["dataset"]["tables"] == {"sessions": 2, "orders": 0}


def test_report_xlsx_format_has_a_sheet_per_table(tmp_path: Path) -> None:
    import fastexcel

    code = main(
        ["report", "--demo", "--users", "2000", "--format", "xlsx", "--sections", "aov,ltv",
         "-o", str(tmp_path / "r.xlsx")]
    )  # fmt: skip
    assert code == 0
    names = fastexcel.read_excel(tmp_path / "r.xlsx").sheet_names
    assert names[:3] == ["About", "Contents", "Summary"] and {"aov", "ltv", "ltv curve"} <= set(
        names
    )


def test_report_default_output_follows_the_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        main(["report", "--demo", "--users", "500", "--format", "json", "--sections", "aov"]) == 0
    )
    assert (tmp_path / "report.json").exists() and not (tmp_path / "report.html").exists()


def test_report_open_opens_the_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    out = tmp_path / "r.html"
    assert (
        main(["report", "--demo", "--users", "500", "--sections", "aov", "-o", str(out), "--open"])
        == 0
    )
    assert opened == [out.resolve().as_uri()]


def test_report_on_orders_only_lists_skipped_sections_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = tmp_path / "orders.csv"
    gl.demo(users=2000, seed=1).table("orders").to_pandas().to_csv(orders, index=False)
    out = tmp_path / "r.json"
    assert main(["report", "--orders", str(orders), "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"ltv", "aov", "orders_per_buyer"} <= set(data["sections"])
    budget = next(w for w in data["left_out"] if w.startswith("Budget recommendation:"))
    assert "no costs" in budget and "no sessions to match buyers to a source" in budget
    skipped = [w for g in data["groups"] for w in g["skipped"]]
    assert any(w.startswith("Conversion lag needs sessions") for w in skipped)


def test_demo_case_challenge_writes_the_zip_and_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --case challenge` writes the zipped Company X database; `report` on it and
    `report --demo --case challenge` both hold the channel, attribution and reconciliation."""
    out = tmp_path / "x"
    assert main(["demo", "--case", "challenge", "--users", "300", "--out", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["challenge.zip"]
    assert f"Next: growthlens report {out / 'challenge.zip'}" in capsys.readouterr().out
    for args in (
        ["report", str(out / "challenge.zip"), "-o", str(tmp_path / "a.html")],
        [
            "report",
            "--demo",
            "--case",
            "challenge",
            "--users",
            "300",
            "-o",
            str(tmp_path / "b.html"),
        ],
    ):
        assert main(args) == 0
        html = Path(args[-1]).read_text(encoding="utf-8")
        for element in (
            "attribution-attribution",
            "attribution-channels_by_market",
            "quality-reconcile",
        ):
            assert f'id="{element}"' in html, (args, element)
    assert main(["demo", "--case", "challenge", "--users", "100", "--out", str(out)]) == 2


def test_spark_conf_becomes_spark_options() -> None:
    from growthlens.cli import spark_backend
    from growthlens.engine import SparkOptions

    options = spark_backend(
        "spark://head:7077",
        ["spark.executor.memory=8g", "spark.driver.memory=4g", "spark.app.name=weekly"],
    )
    assert options == SparkOptions(
        master="spark://head:7077",
        driver_memory="4g",
        app_name="weekly",
        conf={"spark.executor.memory": "8g"},
    )
    assert spark_backend("pyspark", ["spark.sql.shuffle.partitions=8"]).master == "local[*]"
    assert spark_backend("local[8]", None) == "local[8]"


@pytest.mark.parametrize(
    ("backend", "conf", "message"),
    [
        (None, ["spark.executor.memory=8g"], "needs a Spark --backend"),
        ("duckdb", ["spark.executor.memory=8g"], "needs a Spark --backend"),
        ("local[2]", ["spark.executor.memory"], "is not KEY=VALUE"),
        ("local[2]", ["spark.master=yarn"], "set the master with --backend"),
        ("local[2]", ["executor.memory=8g"], "does not start with 'spark.'"),
        ("local[2]", ["spark.driver.memory=lots"], "is not a size"),
    ],
)
def test_bad_spark_conf_is_a_usage_error(
    backend: str | None, conf: list[str], message: str
) -> None:
    import typer

    from growthlens.cli import spark_backend

    with pytest.raises(typer.BadParameter, match=message):
        spark_backend(backend, conf)


def test_spark_conf_without_spark_backend_exits_2(tmp_path: Path) -> None:
    code = main(
        ["report", "--demo", "--users", "200", "-o", str(tmp_path / "r.html"),
         "--spark-conf", "spark.executor.memory=8g"]
    )  # fmt: skip
    assert code == 2
    assert not (tmp_path / "r.html").exists()
