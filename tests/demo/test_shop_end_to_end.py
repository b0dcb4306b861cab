"""The shop demo end to end: ``gl.demo(case="shop")`` → load → analyses → report.

The shop case (growthlens.demo.shop) plants an email A/B test and a billboard campaign in
one city; its truth holds the exact conditional expectations given the drawn customers.
These tests load the generated folder the way a user would (the shop preset and its
growthlens.toml) and check that the public analyses recover the planted values: every
A/B interval covers the expected difference, the participant lists are accounted token by
token, the campaign's ratio of ratios covers the planted one and the naive before/after
ratio is biased downwards as planted. One seed, fixed: an interval missing its truth here
is a 5% event per interval, so a failure is worth reading, not re-seeding.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from markupsafe import escape

import growthlens as gl

# Until the lead exports them as gl.ab_test / gl.campaign_effect, import them from their
# modules; importing also registers them for the report.
from growthlens.analyses.ab_test import ab_test
from growthlens.analyses.campaign_effect import campaign_effect
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.result import Result

EMAIL = "Email discount (first campaign)"
CITY = "Billboards in city 1134"
AB_METRICS = ("revenue", "conversion", "orders", "items", "average_check")


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return gl.demo(users=20_000, seed=0, case="shop")


@pytest.fixture(scope="module")
def ab(shop: Dataset) -> Result:
    return ab_test(shop, window=(5, 16), pre_window=(0, 4))


@pytest.fixture(scope="module")
def city(shop: Dataset) -> Result:
    return campaign_effect(shop, treated={"city": 1134}, period=[15, 45])


def _truth(ds: Dataset, key: str) -> Any:
    assert ds.truth is not None
    return ds.truth[key]


def _finding(result: Result, code: str) -> Any:
    found = [f for f in result.findings if f.code == code]
    assert found, f"no finding {code!r} in {[f.code for f in result.findings]}"
    return found[0]


def test_demo_shop_loads_the_folder_with_its_config(shop: Dataset) -> None:
    truth = shop.truth
    assert truth is not None and truth["shop_customers"] == 20_000 and truth["shop_seed"] == 0
    # The folder's growthlens.toml was read: day numbers, order lines, both campaigns.
    assert str(shop.settings.day_zero) == truth["shop_day_zero"] == "2023-01-01"
    assert shop.settings.order_lines
    assert [s.name for s in shop.settings.experiments] == [EMAIL]
    assert [c.name for c in shop.settings.campaigns] == [CITY]
    assert shop.has("customers", "orders", "assignments")


def test_ab_intervals_cover_the_planted_differences(ab: Result, shop: Dataset) -> None:
    email = _truth(shop, "shop_email")
    assert ab.status == "ok", ab.status_reason
    table = ab.table.set_index("metric")
    for metric in AB_METRICS:
        row = table.loc[metric]
        truth = email["difference"][metric]
        # The truth is treatment − control of the arms' conditional expectations.
        assert truth == pytest.approx(
            email["expected"]["treatment"][metric] - email["expected"]["control"][metric]
        )
        assert row["status"] == "ok", (metric, row["reason"])
        assert row["low"] <= truth <= row["high"], (metric, row["low"], truth, row["high"])
        assert row["n_treatment"] == email["participants"]["treatment"]
        assert row["n_control"] == email["participants"]["control"]
    # The planted signs: the email raised revenue, conversion, orders and items; its 10%
    # discount lowered the average check.
    assert (table.loc[list(AB_METRICS[:4]), "low"] > 0).all()
    assert table.loc["average_check", "high"] < 0


def test_ab_verdict_is_roll_out_and_the_split_is_sound(ab: Result, shop: Dataset) -> None:
    verdict = _finding(ab, "verdict_roll_out")
    assert "revenue" in verdict.text.lower()
    assert not [f for f in ab.findings if f.code == "sample_ratio_mismatch"]
    srm = ab.tables["srm"].set_index("variant")["participants"].to_dict()
    assert srm == _truth(shop, "shop_email")["participants"]
    assert ab.summary["srm_p_value"].value > 0.001


def test_ab_list_accounting_matches_the_planted_lists(ab: Result, shop: Dataset) -> None:
    lists = _truth(shop, "shop_lists")
    pos, neg = lists["positive"], lists["negative"]

    def both(key: str) -> int:
        return int(pos[key]) + int(neg[key])

    counts = ab.tables["lists"].set_index("check")["count"].to_dict()
    expected = {
        "read": both("tokens"),
        "accepted": both("accepted"),
        "not_an_id": sum(pos["non_ids"].values()) + sum(neg["non_ids"].values()),
        # Every token of an id in both lists, its repeats included (interfaces.md).
        "in_several_lists": both("in_both_tokens"),
        "unknown_id": both("unknown_tokens"),
        # The lists' repeats, less those already counted as in several lists or unknown.
        "duplicate_id": both("duplicates")
        - (both("in_both_tokens") - both("in_both"))
        - (both("unknown_tokens") - both("unknown_ids")),
    }
    assert counts == expected
    assert counts["read"] == sum(v for k, v in counts.items() if k != "read")
    assert counts["accepted"] == sum(_truth(shop, "shop_email")["participants"].values())


def test_campaign_ratio_of_ratios_covers_the_planted_ratio(city: Result, shop: Dataset) -> None:
    truth = _truth(shop, "shop_city")
    assert city.status == "ok", city.status_reason
    # The planted lift, up to how the extra orders move customers between first and
    # repeat purchase and out of activity (the truth is the exact expectation).
    assert truth["ratio_of_ratios"] == pytest.approx(1 + truth["lift"], abs=0.01)
    table = city.table
    row = table.loc[table["method"].str.startswith("Difference-in-differences, ratio")].iloc[0]
    assert row["low"] <= truth["ratio_of_ratios"] <= row["high"], (row["low"], row["high"])
    assert row["low"] > 1  # the campaign worked
    effect = _finding(city, "campaign_effect")
    assert effect.numbers["ratio"] == pytest.approx(row["estimate"])


def test_campaign_naive_ratio_is_biased_as_planted(city: Result, shop: Dataset) -> None:
    truth = _truth(shop, "shop_city")
    naive = float(city.summary["naive_ratio"].value)  # type: ignore[arg-type]
    # Sampling error of log(naive): orders are Bernoulli per customer-day, so Poisson
    # variance (1 / expected count of each side) bounds it from above.
    days = pd.Series(truth["expected_orders_treated"])
    on = days.index.isin(truth["days"])
    se = math.sqrt(1 / days[on].sum() + 1 / days[~on].sum())
    assert abs(math.log(naive / truth["naive_ratio"])) < 3 * se, (naive, truth["naive_ratio"], se)
    # Below the effect as planted: the comparison cities fell on those days (weekdays,
    # customers who stopped buying).
    assert naive < truth["ratio_of_ratios"]
    assert truth["naive_ratio"] < truth["ratio_of_ratios"]
    naive_finding = _finding(city, "naive_bias")
    assert naive_finding.numbers["comparison_ratio"] < 1


def test_report_has_both_campaigns_with_their_verdicts(
    shop: Dataset, ab: Result, city: Result, tmp_path: Path
) -> None:
    html = gl.report(shop, tmp_path / "r.html").read_text(encoding="utf-8")
    assert escape(EMAIL) in html and escape(CITY) in html
    # The report runs the config's specs; their verdicts are the ones computed above.
    for result, codes in ((ab, ("verdict_roll_out", "recommendation")),
                          (city, ("campaign_effect", "recommendation"))):  # fmt: skip
        for code in codes:
            text = _finding(result, code).text
            assert escape(text) in html, (code, text)
    # In order: the A/B section, its verdict, then the campaign and its verdict.
    at_email = html.index(escape(EMAIL))
    at_roll_out = html.index(escape(_finding(ab, "verdict_roll_out").text))
    at_city = html.index(escape(CITY), at_email)
    at_worked = html.index(escape(_finding(city, "campaign_effect").text))
    assert at_email < at_roll_out < at_worked and at_city < at_worked


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"case": "other"}, "case must be one of"),
        ({"case": "shop", "users": 999}, "at least 1,000"),
        ({"case": "shop", "months": 6}, "months applies to the main demo only"),
    ],
)
def test_demo_rejects_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gl.demo(**options)
