"""The generated Company X database: exact schema, and every planted count recovered.

Each count is recomputed from the written file with sqlite3 and plain pandas, following
the definitions of docs/demo.md ("The Company X database"): a path independent of both
the generator and the engine.
"""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from growthlens.demo.challenge import ChallengeTruth, write_challenge_db
from growthlens.errors import ConfigError

SEED = 3
CONVERSIONS = 2_000

TABLES = {
    "conversions": ["conv_id", "user_id", "conv_date", "market", "revenue"],
    "conversions_backend": ["conv_id", "user_id", "conv_date", "market", "revenue"],
    "session_sources": [
        "session_id",
        "user_id",
        "event_date",
        "event_time",
        "channel_name",
        "campaign_name",
        "campaign_id",
        "market",
        "cpc",
    ],
    "attribution_customer_journey": ["conv_id", "session_id", "ihc"],
    "api_adwords_costs": ["event_date", "campaign_id", "cost", "clicks", "impressions"],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ChallengeTruth]:
    path = tmp_path_factory.mktemp("challenge") / "challenge.db"
    return path, write_challenge_db(path, seed=SEED, conversions=CONVERSIONS)


@pytest.fixture(scope="module")
def frames(written: tuple[Path, ChallengeTruth]) -> dict[str, pd.DataFrame]:
    with sqlite3.connect(written[0]) as con:
        return {t: pd.read_sql(f"select * from {t}", con) for t in TABLES}


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as con:
        return list(con.iterdump())


# ---- schema ------------------------------------------------------------------------------
def test_schema_is_exact(written: tuple[Path, ChallengeTruth]) -> None:
    with sqlite3.connect(written[0]) as con:
        names = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert names == set(TABLES)
        for table, columns in TABLES.items():
            info = con.execute(f"pragma table_info({table})").fetchall()
            assert [row[1] for row in info] == columns, table
            assert all(row[3] == 1 for row in info), table  # every column NOT NULL
            pk = {row[1]: row[5] for row in info if row[5]}
            if table.startswith("conversions"):
                assert pk == {"conv_id": 1, "user_id": 2, "conv_date": 3}
            else:
                assert pk == {}, table
        # Campaign ids are text, with their leading zeros; '' for non-AdWords sessions.
        kinds = con.execute(
            "select distinct typeof(campaign_id) from session_sources "
            "union select distinct typeof(campaign_id) from api_adwords_costs"
        ).fetchall()
        assert kinds == [("text",)]
        ids = {r[0] for r in con.execute("select distinct campaign_id from session_sources")}
        assert "0045123001" in ids and "" in ids


def test_without_impressions_and_bad_arguments(tmp_path: Path) -> None:
    truth = write_challenge_db(tmp_path / "x.db", seed=1, conversions=300, impressions=False)
    with sqlite3.connect(tmp_path / "x.db") as con:
        columns = [r[1] for r in con.execute("pragma table_info(api_adwords_costs)")]
    assert columns == ["event_date", "campaign_id", "cost", "clicks"]
    assert truth.costs["impressions"] is None and truth.costs["impressions_below_clicks"] == 0
    with pytest.raises(ConfigError, match="conversions=10"):
        write_challenge_db(tmp_path / "y.db", conversions=10)


def test_layout_is_realistic(frames: dict[str, pd.DataFrame], written: tuple[Path, Any]) -> None:
    truth = written[1]
    s, costs = frames["session_sources"], frames["api_adwords_costs"]
    assert len(s) == truth.tables["session_sources"] == truth.users["sessions"]
    assert s["session_id"].is_unique
    users, convs = set(s["user_id"]), set(frames["conversions_backend"]["conv_id"])
    assert not (users & convs) and not (users & set(s["session_id"]))  # ids never shared
    assert sorted(s["channel_name"].unique()) == sorted(truth.channels) and len(truth.channels) == 8
    assert sorted(s["market"].unique()) == ["DE", "FR", "IT", "NL"]
    assert s["event_time"].str.fullmatch(r"\d\d:\d\d:\d\d").all()
    window = (s["event_date"].min(), s["event_date"].max())
    assert window == truth.window and pd.Timestamp(window[1]) - pd.Timestamp(window[0]) == (
        pd.Timedelta(days=89)
    )
    # AdWords campaigns only on paid search and display, and all of their sessions.
    adwords = s["campaign_id"] != ""
    assert set(s.loc[adwords, "channel_name"]) == {"Paid Search", "Display"}
    assert adwords[s["channel_name"].isin(["Paid Search", "Display"])].all()
    assert (s.loc[~adwords, "cpc"] == 0).all() and (s.loc[adwords, "cpc"] > 0).all()
    assert s["campaign_id"].nunique() - 1 + 1 == 11 - 1 + 1  # 10 with sessions, and ''
    assert costs.groupby(["event_date", "campaign_id"]).size().max() == 1
    for channel, n in truth.sessions_by_channel.items():
        assert (s["channel_name"] == channel).sum() == n
    for campaign, cost in truth.cost_by_campaign.items():
        spend = costs.loc[costs["campaign_id"] == campaign]
        assert spend["cost"].sum() == pytest.approx(cost, abs=1e-6)
        assert spend["clicks"].sum() == truth.clicks_by_campaign[campaign]


# ---- reconciliation ------------------------------------------------------------------------
def _first_per_key(table: pd.DataFrame) -> pd.DataFrame:
    """The kept row per key: earliest date, then the remaining columns as text."""
    text = table.astype(str)
    order = text.sort_values(["conv_id", "conv_date", "user_id", "market", "revenue"]).index
    return table.loc[order].drop_duplicates("conv_id").set_index("conv_id")


def _duplicates(table: pd.DataFrame) -> dict[str, Any]:
    kept = _first_per_key(table)
    repeated = table["conv_id"].duplicated(keep=False)
    return {
        "keys": int(table.loc[repeated, "conv_id"].nunique()),
        "extra_rows": len(table) - len(kept),
        "extra_revenue": table["revenue"].sum() - kept["revenue"].sum(),
    }


def test_reconciliation_classes_are_exact(
    frames: dict[str, pd.DataFrame], written: tuple[Path, ChallengeTruth]
) -> None:
    truth = written[1].reconciliation
    orders, reference = frames["conversions"], frames["conversions_backend"]
    assert (len(orders), len(reference)) == (truth["orders_rows"], truth["reference_rows"])
    for side, table in (("orders", orders), ("reference", reference)):
        got, want = _duplicates(table), truth[f"duplicated_{side}"]
        assert (got["keys"], got["extra_rows"]) == (want["keys"], want["extra_rows"]) != (0, 0)
        assert got["extra_rows"] > got["keys"]  # one key is there three times
        assert got["extra_revenue"] == pytest.approx(want["extra_revenue"], abs=1e-6)
        zero = table.loc[table["revenue"] == 0, "conv_id"].nunique()
        assert zero == truth[f"zero_revenue_{side}"] > 0
    o, r = _first_per_key(orders), _first_per_key(reference)
    assert (len(o), len(r)) == (truth["orders_keys"], truth["reference_keys"])

    only_r = r.loc[r.index.difference(o.index)]
    only_o = o.loc[o.index.difference(r.index)]
    outage = pd.date_range(*(written[1].outage[k] for k in ("first", "last"))).strftime("%Y-%m-%d")
    on_outage = only_r["conv_date"].isin(outage)
    assert on_outage.sum() == truth["outage"]["rows"]
    assert only_r.loc[on_outage, "revenue"].sum() == pytest.approx(truth["outage"]["revenue"])
    assert reference["conv_date"].isin(outage).sum() == truth["outage"]["reference_rows"]
    assert truth["outage"]["rows"] >= 0.8 * truth["outage"]["reference_rows"]
    assert (~on_outage).sum() == truth["missing_in_orders"]["rows"]
    assert only_r.loc[~on_outage, "revenue"].sum() == pytest.approx(
        truth["missing_in_orders"]["revenue"]
    )
    assert only_r.groupby("conv_date").size().to_dict() == truth["missing_in_orders_by_day"]
    assert only_o.groupby("conv_date").size().to_dict() == truth["missing_in_reference_by_day"]
    assert len(only_o) == truth["missing_in_reference"]["rows"]
    assert only_o["revenue"].sum() == pytest.approx(truth["missing_in_reference"]["revenue"])
    # The outage is the only run of days with more than 3 rows missing.
    daily = only_r.groupby("conv_date").size()
    assert sorted(daily[daily > 3].index) == list(outage)

    both = o.join(r, how="inner", suffixes=("_o", "_r"))
    assert len(both) == truth["matched"]
    diff = both["revenue_o"] - both["revenue_r"]
    mismatch, near = diff.abs() > 0.01, (diff.abs() > 0) & (diff.abs() <= 0.01)
    assert mismatch.sum() == truth["revenue_mismatch"]["rows"]
    assert diff[mismatch].abs().sum() == pytest.approx(truth["revenue_mismatch"]["at_stake"])
    assert diff[mismatch].sum() == pytest.approx(truth["revenue_mismatch"]["net"])
    assert near.sum() == truth["near_miss"]["rows"]
    assert diff[near].abs().sum() == pytest.approx(truth["near_miss"]["abs_difference"])
    differs = {
        name: both[f"{name}_o"] != both[f"{name}_r"] for name in ("conv_date", "user_id", "market")
    }
    for name, cls in (("conv_date", "date"), ("user_id", "user"), ("market", "market")):
        assert differs[name].sum() == truth[f"{cls}_mismatch"]["rows"] > 0, name
        revenue = both.loc[differs[name], "revenue_r"].sum()
        assert revenue == pytest.approx(truth[f"{cls}_mismatch"]["revenue"]), name
    # Disjoint classes: no key differs in two fields.
    flags = pd.DataFrame({"revenue": diff != 0, **differs})
    assert (flags.sum(axis=1) <= 1).all()
    assert (flags.sum(axis=1) == 0).sum() == truth["clean"]
    # Market mismatches stay among the markets without the currency error.
    moved = both.loc[differs["market"]]
    assert not ({"IT"} & (set(moved["market_o"]) | set(moved["market_r"])))


def test_currency_error_is_one_market(
    frames: dict[str, pd.DataFrame], written: tuple[Path, ChallengeTruth]
) -> None:
    truth = written[1].currency_error
    median = frames["conversions"].groupby("market")["revenue"].median()
    assert median.to_dict() == pytest.approx(dict(truth["median_revenue"]))
    others = median.drop(truth["market"])
    assert median[truth["market"]] / others.median() > 30
    assert others.max() / others.min() < 2


# ---- journeys ----------------------------------------------------------------------------------
def test_journeys_shares_and_later_sessions(
    frames: dict[str, pd.DataFrame], written: tuple[Path, ChallengeTruth]
) -> None:
    truth = written[1].journeys
    j, s = frames["attribution_customer_journey"], frames["session_sources"]
    conv = _first_per_key(frames["conversions"])
    assert len(j) == truth["touchpoints"] and j["conv_id"].nunique() == truth["conversions"]
    assert set(j["conv_id"]) == set(conv.index)  # every conversion has its journey
    assert not j.duplicated(["conv_id", "session_id"]).any()
    sums = j.groupby("conv_id")["ihc"].sum()
    off = (sums - 1).abs() > 1e-6
    assert off.sum() == truth["weights_off"]["journeys"] > 0
    assert (sums[off] - 1).sum() == pytest.approx(truth["weights_off"]["gained"])
    assert ((sums[off] - 1).abs() > 0.05).all()  # clearly off, not rounding

    touches = j.merge(s, on="session_id", how="left").join(
        conv, on="conv_id", suffixes=("", "_conv")
    )
    assert touches["user_id"].notna().all()
    assert (touches["user_id"] == touches["user_id_conv"]).all()  # the buyer's own sessions
    later = touches["event_date"] > touches["conv_date"]
    assert touches.loc[later, "conv_id"].nunique() == truth["after_conversion"]["journeys"] > 0
    assert later.sum() == truth["after_conversion"]["sessions"]
    # Shares and later sessions are planted on different journeys.
    assert not set(touches.loc[later, "conv_id"]) & set(sums[off].index)
    latest = touches.groupby("conv_id")["event_date"].max()
    assert (latest == conv.loc[latest.index, "conv_date"]).sum() == truth["on_conversion_day"]
    # Every other touch is within the 30 days up to the conversion date.
    lag = pd.to_datetime(touches["conv_date"]) - pd.to_datetime(touches["event_date"])
    assert lag[~later].between(pd.Timedelta(0), pd.Timedelta(days=30)).all()


# ---- costs --------------------------------------------------------------------------------------
def test_cost_checks_are_exact(
    frames: dict[str, pd.DataFrame], written: tuple[Path, ChallengeTruth]
) -> None:
    truth = written[1].costs
    costs, s = frames["api_adwords_costs"], frames["session_sources"]
    assert len(costs) == truth["rows"]
    assert ((costs["cost"] > 0) & (costs["clicks"] == 0)).sum() == truth["cost_without_clicks"] > 0
    below = costs["impressions"] < costs["clicks"]
    assert below.sum() == truth["impressions_below_clicks"] > 0
    assert not (below & (costs["clicks"] == 0)).any()
    session_campaigns = set(s.loc[s["campaign_id"] != "", "campaign_id"])
    no_session = ~costs["campaign_id"].isin(session_campaigns)
    want = truth["campaigns_with_cost_no_session"]
    assert sorted(costs.loc[no_session, "campaign_id"].unique()) == want["ids"] == ["4012349999"]
    assert no_session.sum() == want["rows"]
    assert costs.loc[no_session, "cost"].sum() == pytest.approx(want["cost"])
    uncosted = sorted(session_campaigns - set(costs["campaign_id"]))
    assert uncosted == truth["session_campaigns_without_cost"]["ids"] == ["5098100003"]
    assert (
        s["campaign_id"].isin(uncosted).sum() == truth["session_campaigns_without_cost"]["sessions"]
    )
    days = set(zip(s["event_date"], s["campaign_id"], strict=True))
    idle = ~no_session & ~pd.Series(
        [(d, c) in days for d, c in zip(costs["event_date"], costs["campaign_id"], strict=True)]
    )
    assert idle.sum() == truth["rows_without_session_that_day"]["rows"] >= 10
    assert costs.loc[idle, "cost"].sum() == pytest.approx(
        truth["rows_without_session_that_day"]["cost"]
    )
    # The planted rows are disjoint: a zero-click or low-impression row has sessions that day.
    assert not (idle & ((costs["clicks"] == 0) | below)).any()
    assert not (no_session & ((costs["clicks"] == 0) | below)).any()


# ---- determinism and zipping --------------------------------------------------------------------
def test_same_seed_same_database_and_zip(tmp_path: Path) -> None:
    a = write_challenge_db(tmp_path / "a.db", seed=5, conversions=400)
    b = write_challenge_db(tmp_path / "b.db", seed=5, conversions=400)
    c = write_challenge_db(tmp_path / "c.db", seed=6, conversions=400)
    assert a == b and a != c
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db") != _dump(tmp_path / "c.db")
    z = write_challenge_db(tmp_path / "challenge.zip", seed=5, conversions=400, zipped=True)
    assert z == a
    with zipfile.ZipFile(tmp_path / "challenge.zip") as archive:
        assert archive.namelist() == ["challenge.db"]
        archive.extractall(tmp_path / "out")
    assert _dump(tmp_path / "out" / "challenge.db") == _dump(tmp_path / "a.db")
    # Writing over an existing file replaces it.
    write_challenge_db(tmp_path / "a.db", seed=5, conversions=400)
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db")


def test_truth_round_trips(written: tuple[Path, ChallengeTruth]) -> None:
    truth = written[1]
    assert ChallengeTruth.from_dict(truth.to_dict()).to_dict() == truth.to_dict()
