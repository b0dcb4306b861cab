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
    assert main(["check", *files]) == 1  # default --fail-on warning; there are errors and warnings
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
