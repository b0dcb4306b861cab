"""The executive summary: findings ranked by money at stake, changes coloured by what is
good for the business, headlines read from the Results that define them."""

from __future__ import annotations

import pandas as pd
import pytest

from growthlens.report.model import Section
from growthlens.report.summary import build, headline_value, signed_percent, tone, top_findings
from growthlens.result import Finding, Result


def _result(name: str, *findings: Finding) -> Result:
    return Result(name, name.title(), pd.DataFrame(), findings=findings)


def test_findings_are_ranked_by_money_then_severity() -> None:
    sections = (
        Section(
            id="quality",
            title="Q",
            results=(
                _result(
                    "reconcile",
                    Finding("missing", "small gap", "error", at_stake=100.0),
                    Finding("fact", "a fact", "info"),
                    Finding("warn", "look at this", "warning"),
                ),
            ),
        ),
        Section(
            id="marketing",
            title="M",
            results=(
                _result(
                    "romi",
                    Finding("cut", "cut source 3", "info", at_stake=5000.0),
                    Finding("err", "broken", "error"),
                    Finding("zero", "nothing at stake", "info", at_stake=0.0),
                ),
            ),
        ),
    )
    top = top_findings(sections, currency="USD")
    assert [f.text for f in top] == ["cut source 3", "small gap", "broken", "look at this"]
    assert top[0].at_stake == "$5,000"
    assert top[0].anchor == "marketing-romi"
    assert len(top_findings(sections, currency="USD", limit=2)) == 2


@pytest.mark.parametrize(
    ("change", "better", "expected"),
    [
        (0.26, "higher", "good"),
        (-0.26, "higher", "bad"),
        (0.10, "lower", "bad"),  # CAC up
        (-0.10, "lower", "good"),
        (0.50, "neutral", "neutral"),  # spend
        (0.01, "higher", "neutral"),  # steady
        (float("nan"), "higher", "neutral"),
    ],
)
def test_tone_follows_the_business_not_the_sign(change: float, better: str, expected: str) -> None:
    assert tone(change, better) == expected  # type: ignore[arg-type]


def test_headline_values_are_short() -> None:
    assert headline_value(-2_500_000.0, "money", "EUR") == "−€2.5M"
    assert headline_value(0.1599, "share", "USD") == "16.0%"
    assert headline_value(float("nan"), "money", "USD") == "—"


def test_summary_of_the_demo_report() -> None:
    import growthlens as gl
    from growthlens.report.build import sections

    ds = gl.demo(users=3000)
    built = sections(ds)
    view = build(built, currency="USD")
    labels = [h.label for h in view.headlines]
    assert labels[:5] == ["Users", "Buyers", "Visitor → buyer conversion", "Revenue",
                          "Marketing spend"]  # fmt: skip
    assert {"CAC", "LTV at 6 months", "ROMI at 6 months", "Payback"} <= set(labels)
    kpis = next(r for s in built for r in s.results if r.name == "kpis")
    revenue = next(h for h in view.headlines if h.label == "Revenue")
    change = kpis.frame("changes").set_index("figure").loc["revenue", "change"]
    assert revenue.tone == tone(change, "higher")
    assert revenue.spark.count(",") == int(kpis.table["complete"].sum())
    stakes = [f for f in view.findings if f.at_stake]
    assert stakes, "the demo plants findings with money at stake"
    assert view.budget and {b.action for b in view.budget} <= {
        "grow", "hold", "cut", "too little data", "organic", "unattributed"
    }  # fmt: skip
    assert view.to_dict()["headlines"][0]["label"] == "Users"


def test_orders_and_costs_only_still_get_a_summary() -> None:
    """No sessions: no visitors, no per-cohort CAC, no budget (buyers have no source); the
    summary says why instead of failing."""
    import growthlens as gl
    from growthlens.report.build import sections

    orders = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 1, 4, 5, 6, 2],
            "ts": pd.to_datetime(
                [
                    "2024-01-03",
                    "2024-01-09",
                    "2024-02-10",
                    "2024-02-11",
                    "2024-03-05",
                    "2024-04-02",
                    "2024-05-20",
                    "2024-06-01",
                ]
            ),
            "revenue": [10.0, 20.0, 5.0, 7.0, 9.0, 11.0, 3.0, 4.0],
        }
    )
    costs = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", "2024-06-30", freq="D"),
            "source": "ads",
            "cost": 1.0,
        }
    )
    built = sections(gl.load(orders=orders, costs=costs))
    view = build(built, currency="USD")
    labels = [h.label for h in view.headlines]
    assert "Users" not in labels and "Visitor → buyer conversion" not in labels
    assert {"Buyers", "Revenue", "Marketing spend", "CAC"} <= set(labels)
    assert view.budget == ()
    assert any("session" in text for text in view.budget_text)


def test_cohort_headlines_read_the_cells_the_horizon_figure_averages() -> None:
    """LTV and ROMI cards: the sparkline's cells are the complete cohorts at age N − 1 (their
    mean is the headline), the change compares the last two of them."""
    import growthlens as gl
    from growthlens.report.build import sections

    built = sections(gl.demo(users=3000))
    found = {r.name: r for s in built for r in s.results}
    view = build(built, currency="USD")
    ltv, romi = found["ltv"], found["romi"]
    cells = ltv.table[(ltv.table["age"] == 5) & ltv.table["complete"]].sort_values("cohort")
    assert cells["ltv"].mean() == pytest.approx(ltv.summary["ltv_6"].value)
    card = next(h for h in view.headlines if h.label == "LTV at 6 months")
    change = cells["ltv"].iloc[-1] / cells["ltv"].iloc[-2] - 1
    assert card.change == signed_percent(change)
    assert card.spark.count(",") == len(cells)
    r = romi.frame("cohorts")
    r = r[(r["age"] == 5) & r["complete"] & r["romi"].notna()].sort_values("cohort")
    romi_card = next(h for h in view.headlines if h.label == "ROMI at 6 months")
    assert romi_card.value_tone == ("bad" if romi.summary["romi_n"].value < 0 else "good")
    assert romi_card.tone == tone(r["romi"].iloc[-1] - r["romi"].iloc[-2], "higher")
