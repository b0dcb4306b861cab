"""Severity of the load's findings by the share of rows and revenue at stake (issue 18).

Fixtures are built by hand so every share is an exact fraction: integer revenues whose
sums and quotients are exact in floating point, compared with ``==`` at the thresholds'
edges (a share *reaching* a threshold takes its severity).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import growthlens as gl
from growthlens.cli import main
from growthlens.data.config import SeverityThresholds, make_settings
from growthlens.data.quality import Finding
from growthlens.data.severity import by_shares, severity

DAY0 = datetime(2024, 1, 1, 10, 0)


def _sessions(users: int, *, ends: bool = False) -> pd.DataFrame:
    """Users 0..users-1 visit on 2024-01-01 and 2024-01-31 at 10:00.

    ``ends``: with 5-minute sessions, except the first, which ends before it starts.
    """
    starts = [DAY0 + timedelta(days=d) for _ in range(users) for d in (0, 30)]
    frame = pd.DataFrame({"user_id": [u for u in range(users) for _ in (0, 30)]})
    frame["start_ts"] = starts
    if ends:
        minutes = [-1] + [5] * (len(starts) - 1)
        frame["end_ts"] = [s + timedelta(minutes=m) for s, m in zip(starts, minutes, strict=True)]
    return frame


def _orders(n: int, revenue: float, extra: list[tuple[int, datetime, float]]) -> pd.DataFrame:
    """Users 0..n-1 order once for ``revenue`` at 11:00 (the last on 2024-01-31, the others
    on 01-01, so the data window is January), then the ``extra`` rows."""
    days = [0] * (n - 1) + [30]
    rows = [(u, DAY0 + timedelta(days=d, hours=1), revenue) for u, d in enumerate(days)]
    return pd.DataFrame(rows + extra, columns=["user_id", "ts", "revenue"])


LATE = (0, datetime(2024, 2, 5, 12), 10.0)  # after the window: out_of_window
NO_SESSION = (10**6, DAY0 + timedelta(days=2), 999.0)  # a user without any session
NEGATIVE = (1, DAY0 + timedelta(days=3), -5.0)  # negative_revenue


def _one(ds: gl.Dataset, check: str) -> Finding:
    (found,) = [f for f in ds.quality.findings if f.check == check]
    return found


# --- the rule alone, at the edges of the default thresholds --------------------------


@pytest.mark.parametrize(
    ("rows", "revenue", "expected"),
    [
        (0.000999, None, "info"),
        (0.001, None, "warning"),  # warning.rows reached
        (0.049999, None, "warning"),
        (0.05, None, "error"),  # error.rows reached
        (0.0, 0.000999, "info"),
        (0.0, 0.001, "warning"),  # warning.revenue reached
        (0.0, 0.009999, "warning"),
        (0.0, 0.01, "error"),  # error.revenue reached
        (0.0005, 0.0095, "warning"),  # the worse of the two
        (None, None, "info"),  # nothing measured: nothing at stake shown
    ],
)
def test_default_thresholds_at_their_edges(
    rows: float | None, revenue: float | None, expected: str
) -> None:
    assert by_shares(rows, revenue, SeverityThresholds()) == expected


def _finding(check: str, action: str = "excluded", fixed: str = "info") -> Finding:
    return Finding(
        table="orders",
        check=check,
        message="",
        rows=1,
        action=action,  # type: ignore[arg-type]
        effect="",
        what="",
        what_one="",
        severity=fixed,  # type: ignore[arg-type]
    )


def test_floors_ceilings_and_fixed_checks() -> None:
    t = SeverityThresholds()
    # A broken row is at least a warning, however rare; a trim may be info.
    assert severity(_finding("negative_revenue"), 1e-6, None, t) == "warning"
    assert severity(_finding("missing_user_id"), 0.2, None, t) == "error"
    assert severity(_finding("out_of_window"), 1e-6, 1e-6, t) == "info"
    # Counted right in every total: never an error.
    assert severity(_finding("zero_revenue", "kept"), 0.5, 0.0, t) == "warning"
    assert severity(_finding("cost_source_without_sessions", "kept"), 0.3, 0.3, t) == "warning"
    # Not measurable in rows or money: the finding's own severity, whatever the shares.
    assert severity(_finding("ambiguous_date_order", "kept", "warning"), 1.0, None, t) == (
        "warning"
    )
    assert severity(_finding("blank_line", fixed="info"), 0.9, None, t) == "info"
    # "missing_" prefixes grade exclusions only, not another table's kept-row check.
    assert severity(_finding("missing_after_combining", "kept", "info"), 0.9, None, t) == "info"


# --- the settings ----------------------------------------------------------------------


def test_thresholds_setting_defaults_partial_levels_and_errors() -> None:
    default = make_settings().severity
    assert (default.warning.rows, default.warning.revenue) == (0.001, 0.001)
    assert (default.error.rows, default.error.revenue) == (0.05, 0.01)
    partial = make_settings(severity={"error": {"rows": 0.1}}).severity
    assert (partial.error.rows, partial.error.revenue, partial.warning.rows) == (0.1, 0.01, 0.001)
    with pytest.raises(gl.ConfigError, match=r"warning.rows = 0.2 is above error.rows = 0.05"):
        make_settings(severity={"warning": {"rows": 0.2}})
    with pytest.raises(gl.ConfigError, match=r"severity.*less than or equal to 1"):
        make_settings(severity={"error": {"revenue": 1.5}})
    with pytest.raises(gl.ConfigError, match=r"unknown key 'warn'"):
        make_settings(severity={"warn": {"rows": 0.1}})


# --- through the load: exact shares, the two cases of the issue ------------------------


def test_one_order_outside_the_window_is_info() -> None:
    # 1 of 10,000 orders, 10 of 100,000 revenue: shares 0.0001, below every threshold.
    ds = gl.load(sessions=_sessions(9_999), orders=_orders(9_999, 10.0, [LATE]))
    found = _one(ds, "out_of_window")
    assert (found.rows, found.revenue) == (1, 10.0)
    assert found.rows_share == 1 / 10_000 and found.revenue_share == 10 / 100_000
    assert found.severity == "info"


def test_rows_and_revenue_shares_at_the_edges_through_the_load() -> None:
    # 1 of 1,000 orders outside the window carrying 10 of 10,000 revenue: both shares are
    # exactly 0.001, the default warning thresholds.
    orders, sessions = _orders(999, 10.0, [LATE]), _sessions(999)
    ds = gl.load(sessions=sessions, orders=orders)
    found = _one(ds, "out_of_window")
    assert (found.rows_share, found.revenue_share) == (0.001, 0.001)
    assert found.severity == "warning"
    # Thresholds just above either share: the other still reaches its own.
    only_revenue = {"warning": {"rows": 0.0011, "revenue": 0.001}}
    ds = gl.load(sessions=sessions, orders=orders, severity=only_revenue)
    assert _one(ds, "out_of_window").severity == "warning"
    neither = {"warning": {"rows": 0.0011, "revenue": 0.0011}}
    ds = gl.load(sessions=sessions, orders=orders, severity=neither)
    assert _one(ds, "out_of_window").severity == "info"
    # Custom error thresholds at the shares: an error.
    strict = {"warning": {"rows": 0.0005, "revenue": 0.0005}, "error": {"rows": 0.001}}
    ds = gl.load(sessions=sessions, orders=orders, severity=strict)
    assert _one(ds, "out_of_window").severity == "error"


def test_orders_without_session_carrying_8_percent_of_revenue() -> None:
    # 999 orders of buyers with sessions at 11.5 each (11,488.5) and 1 order of a user
    # without any session at 999: 1 of 1,000 rows (0.1%), 999 / 12,487.5 = 8% of revenue.
    ds = gl.load(sessions=_sessions(999), orders=_orders(999, 11.5, [NO_SESSION]))
    found = _one(ds, "orders_without_session")
    assert (found.rows, found.revenue, found.action) == (1, 999.0, "kept")
    assert found.rows_share == 0.001
    assert found.revenue_share == pytest.approx(0.08, rel=1e-12)
    assert found.severity == "error"  # 8% of revenue ≥ error.revenue (1%)
    # A team that tolerates up to 10% of revenue unattributed: still a warning.
    lenient = {"error": {"rows": 0.05, "revenue": 0.1}}
    orders = _orders(999, 11.5, [NO_SESSION])
    ds = gl.load(sessions=_sessions(999), orders=orders, severity=lenient)
    assert _one(ds, "orders_without_session").severity == "warning"


def test_broken_rows_without_money_are_graded_on_rows() -> None:
    # Negative revenue carries no money to measure: rows only, and at least a warning.
    ds = gl.load(sessions=_sessions(9_999), orders=_orders(9_999, 1.0, [NEGATIVE]))
    found = _one(ds, "negative_revenue")
    assert (found.revenue, found.revenue_share, found.rows_share) == (None, None, 1 / 10_000)
    assert found.severity == "warning"


def test_tables_without_money_and_fixed_checks_keep_their_rules() -> None:
    ds = gl.load(sessions=_sessions(10, ends=True))
    found = _one(ds, "end_before_start")
    # 1 of 20 sessions = 5%: an error by rows alone, no revenue to measure.
    assert (found.rows_share, found.revenue_share, found.severity) == (0.05, None, "error")


# --- the command line ------------------------------------------------------------------


def _files(tmp_path: Path, sessions: pd.DataFrame, orders: pd.DataFrame) -> list[str]:
    paths = []
    for name, frame in (("sessions", sessions), ("orders", orders)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths += [f"--{name}", str(path)]
    return paths


def test_check_fail_on_warning_and_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    # Worst finding a warning (1 of 1,000 orders outside the window, 0.1% of revenue).
    warned = _files(tmp_path, _sessions(999), _orders(999, 10.0, [LATE]))
    assert main(["check", *warned]) == 0  # default --fail-on error
    out = capsys.readouterr().out
    assert "OK" in out and "out_of_window" in out and "0.1%" in out
    assert main(["check", *warned, "--fail-on", "error"]) == 0
    assert main(["check", *warned, "--fail-on", "warning"]) == 1
    assert "1 finding of severity warning or worse" in capsys.readouterr().out
    # Worst finding info (1 of 10,000): passes even --fail-on warning.
    quiet = _files(tmp_path, _sessions(9_999), _orders(9_999, 10.0, [LATE]))
    assert main(["check", *quiet, "--fail-on", "warning"]) == 0
    assert main(["check", *quiet, "--fail-on", "info"]) == 1
    # An error (8% of revenue without a session) fails the default.
    failed = _files(tmp_path, _sessions(999), _orders(999, 11.5, [NO_SESSION]))
    capsys.readouterr()
    assert main(["check", *failed]) == 1
    out = capsys.readouterr().out
    assert "FAIL: 1 finding of severity error or worse" in out
    assert "orders_without_session" in out and "8.0%" in out
    # A usage error stays exit 2.
    assert main(["check", *failed, "--fail-on", "fatal"]) == 2


def test_check_lists_findings_worst_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    sessions = _sessions(999, ends=True)  # 1 of 1,998 ends before it starts: info
    # 8% of revenue without a session (error), 1 of 1,000 with negative revenue (warning).
    files = _files(tmp_path, sessions, _orders(998, 11.5, [NO_SESSION, NEGATIVE]))
    assert main(["check", *files, "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Findings") :]
    order = [table.index(c) for c in ("orders_without_session", "negative_revenue", "end_before")]
    assert order == sorted(order)
