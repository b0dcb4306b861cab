"""The demo's event log: planted truths recovered from the files, exact counts, determinism.

The written CSV is read with plain pandas (ids as text). Exact truths (funnel counts per
step, device, country and month; medians; sessions; ties; edge users) are recomputed by
the brute-force oracle (tests/oracle/funnel.py) and by ``gl.funnel`` on ``gl.demo``.
Planted probabilities are checked as sums of Bernoulli trials: over n users with planted
probabilities p_i, the count x satisfies |x − Σp_i| < 4.5·sqrt(Σp_i(1 − p_i)), on users
whose depth is the planted one (first visit after the tracking gap, at least 90 days
before the data ends, not pinned at the window edge).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import growthlens as gl
from growthlens.demo import BLOCK_USERS, Truth, write_demo
from growthlens.demo.events import EventsTruth, step_probability
from growthlens.demo.world import Stream
from tests.oracle.funnel import funnel as oracle_funnel

USERS = 30_000
SEED = 7
Z = 4.5
WEEK = 604_800


def _within_sum(x: float, p: pd.Series) -> bool:
    # ≤: a planted probability of 0 (or 1) must give exactly 0 (or n) hits.
    return abs(x - p.sum()) <= Z * math.sqrt(float((p * (1 - p)).sum()))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, Any]]:
    files = write_demo(tmp_path_factory.mktemp("events_csv"), users=USERS, seed=SEED)
    return files, json.loads(files["truth"].read_text())


@pytest.fixture(scope="module")
def frames(written: tuple[dict[str, Path], dict[str, Any]]) -> dict[str, Any]:
    files, truth = written
    events = pd.read_csv(
        files["events"],
        dtype={"user_id": str, "session_id": str, "source": str},
        parse_dates=["ts"],
        keep_default_na=False,
    )
    visits = pd.read_csv(
        files["visits"], dtype={"Uid": str, "Source Id": str}, parse_dates=["Start Ts"]
    )
    first = (
        visits.sort_values(["Uid", "Start Ts"])
        .drop_duplicates("Uid")
        .set_index("Uid")[["Start Ts", "Source Id", "Device"]]
    )
    steps = truth["events_steps"]
    rows: list[dict[str, object]] = [
        {"user_id": u, "ts": t, "event": e}
        for u, t, e in zip(events["user_id"], events["ts"], events["event"], strict=True)
    ]
    matches = [lambda r, s=s: r["event"] == s for s in steps]
    units = oracle_funnel(rows, matches, timedelta(seconds=truth["events_window_s"]), "ordered")
    oracle = pd.DataFrame(
        {
            "depth": [u.depth for u in units.values()],
            "ts_1": [u.times[0] if u.depth else pd.NaT for u in units.values()],
            "times": [u.times for u in units.values()],
        },
        index=pd.Index([k[0] for k in units], name="user_id"),
    )
    start, end = (pd.Timestamp(d) for d in truth["window"])
    users = events.groupby("user_id").agg(
        device=("device", "first"),
        country=("country", "first"),
        source=("source", "first"),
        first_ts=("ts", "min"),
    )
    users["reviews"] = users.index.isin(events.loc[events["event"] == "view_reviews", "user_id"])
    page_views = events.loc[events["event"] == "page_view", "user_id"].value_counts()
    users["page_views"] = page_views.reindex(users.index, fill_value=0)
    users = users.join(oracle).join(first["Start Ts"].rename("first_visit"))
    users["depth"] = users["depth"].fillna(0).astype(int)
    return {
        "events": events,
        "visits": visits,
        "first_visit": first,
        "users": users,
        "truth": truth,
        "start": start,
        "end": end,
        "data_end": end + pd.Timedelta(days=1),
    }


# ---- other domains unchanged, determinism ------------------------------------------------
# SHA-256 of the sales files written before the event log existed: a new domain (and the
# sales refactor exposing its per-user draws) must leave them byte-identical. The columns
# added since (visits' Session Id, orders' Order Id, costs' clicks and impressions) are
# the last ones of each line: hashed without them.
ADDED_COLUMNS = {"visits": 1, "orders": 1, "costs": 2}
SALES_HASHES = {
    (12_345, 5, 12): {
        "visits": "bf966cd170d90c7be6a83c8d4fd5b46f0c44342b9b4fe7ac2b03c5812b539888",
        "orders": "9b518a31276d9a62fd55669e68d6cfcc8607c28cd758e8e0cb99b3890c93a853",
        "costs": "96ca6a4de224cf6430ea74bd584f7c536a1e1fcfc7ce320b6affbe03cef31403",
    },
    (700, 2, 3): {
        "visits": "d7e8ec4bcd0b784a6821be5174f9c7460cfdf4ecdabc084700d2e1662b82d6e4",
        "orders": "3843161bb7c90063ac4a156375e3966655b208b224dc45fcf579f4f3e123bb03",
        "costs": "aec3e25f411acddec30ea7e0fe2f6edda2e96af17a493bd9cd3c027d5c9077d1",
    },
}


@pytest.mark.parametrize("args", sorted(SALES_HASHES))
def test_sales_files_are_byte_identical_to_before_the_events(
    tmp_path: Path, args: tuple[int, int, int]
) -> None:
    users, seed, months = args
    files = write_demo(tmp_path, users=users, seed=seed, months=months, format="csv")
    for name, digest in SALES_HASHES[args].items():
        lines = files[name].read_bytes().split(b"\n")
        before = b"\n".join(
            b",".join(line.split(b",")[: -ADDED_COLUMNS[name]]) if line else line for line in lines
        )
        assert hashlib.sha256(before).hexdigest() == digest, name


def test_event_log_is_a_function_of_the_seed_not_of_the_chunk_size(tmp_path: Path) -> None:
    users = 2 * BLOCK_USERS + 1_234  # three seeding blocks, the last one partial
    a = write_demo(tmp_path / "a", users=users, seed=2, chunk_users=1)
    b = write_demo(tmp_path / "b", users=users, seed=2, chunk_users=10**6)
    c = write_demo(tmp_path / "c", users=users, seed=3)
    assert a["events"].read_bytes() == b["events"].read_bytes()
    assert a["truth"].read_bytes() == b["truth"].read_bytes()
    assert a["events"].read_bytes() != c["events"].read_bytes()
    assert int(Stream.EVENTS_BLOCKS) == 4


@pytest.mark.parametrize(("users", "seed", "months"), [(100, 1, 12), (200, 2, 3), (150, 3, 2)])
def test_small_logs_span_the_window(tmp_path: Path, users: int, seed: int, months: int) -> None:
    files = write_demo(tmp_path, users=users, seed=seed, months=months, format="parquet")
    truth = json.loads(files["truth"].read_text())
    ts = pd.read_parquet(files["events"], columns=["ts"])["ts"]
    assert [ts.min().date().isoformat(), ts.max().date().isoformat()] == truth["window"]


def test_truth_section_keys_and_round_trip(written: tuple[dict[str, Path], dict[str, Any]]) -> None:
    truth = written[1]
    keys = [k for k in truth if k.startswith("events_")]
    assert keys == [f.name for f in EventsTruth.__dataclass_fields__.values()]
    assert Truth.from_dict(truth).to_dict() == truth


# ---- layout, and the users sales drew ----------------------------------------------------
def test_layout_totals_and_users_come_from_sales(frames: dict[str, Any]) -> None:
    events, users, truth = frames["events"], frames["users"], frames["truth"]
    totals = truth["events_totals"]
    assert list(events.columns) == [
        "user_id",
        "ts",
        "event",
        "session_id",
        "device",
        "country",
        "source",
        "page",
    ]
    assert len(events) == totals["rows"]
    assert len(users) == totals["users"]
    assert set(events["event"]) == set(truth["events_steps"]) | set(truth["events_other_events"])
    assert set(events["country"]) == set(truth["events_countries"])
    assert (events.groupby("user_id")[["device", "country", "source"]].nunique() == 1).all().all()
    # The log spans the window exactly (the load's window is where every table has data).
    assert events["ts"].min().normalize() == frames["start"]
    assert events["ts"].max().normalize() == frames["end"]
    assert not events["ts"].is_monotonic_increasing  # rows are shuffled
    # Device, source and first visit are the ones sales drew (the first session's).
    sales = frames["first_visit"].loc[users.index]
    assert (users["device"] == sales["Device"]).all()
    assert (users["source"] == sales["Source Id"]).all()
    assert (users["first_ts"] >= sales["Start Ts"]).all()
    after_gap = users["first_visit"] >= frames["start"] + pd.Timedelta(days=21)
    assert (users.loc[after_gap, "first_ts"] == users.loc[after_gap, "first_visit"]).all()


def test_inclusion_and_country_shares(frames: dict[str, Any]) -> None:
    users, truth = frames["users"], frames["truth"]
    first = frames["first_visit"]["Start Ts"].dt.normalize()
    spike = first.between(
        *(pd.Timestamp(d) for d in (truth["events_spike"][k] for k in ("first", "last")))
    )
    in_log = first.index.isin(users.index)
    # Every user arriving in the spike month is in the log (inclusion 1.0), exactly.
    assert truth["events_inclusion"]["spike"] == 1.0
    assert in_log[spike.to_numpy()].all()
    after_gap = ~spike & (first >= frames["start"] + pd.Timedelta(days=21))
    n, x = int(after_gap.sum()), int(in_log[after_gap.to_numpy()].sum())
    assert _within_sum(x, pd.Series([truth["events_inclusion"]["other"]] * n))
    for country, share in truth["events_country_share"].items():
        hit = int((users["country"] == country).sum())
        assert _within_sum(hit, pd.Series([share] * len(users))), country


# ---- exact counts ---------------------------------------------------------------------------
def _counts(users: pd.DataFrame, k: int, data_end: pd.Timestamp) -> dict[str, list[int]]:
    complete = users["ts_1"] <= data_end - pd.Timedelta(seconds=WEEK)
    return {
        "users": [int((users["depth"] >= j).sum()) for j in range(1, k + 1)],
        "complete": [int(((users["depth"] >= j) & complete).sum()) for j in range(1, k + 1)],
    }


def test_exact_funnel_counts_agree_with_the_brute_force_oracle(frames: dict[str, Any]) -> None:
    users, truth, data_end = frames["users"], frames["truth"], frames["data_end"]
    full = truth["events_funnels"]["full"]
    entered = users[users["depth"] >= 1]
    assert _counts(entered, 6, data_end) == {"users": full["users"], "complete": full["complete"]}
    for column, key in (("device", "by_device"), ("country", "by_country")):
        for value, counts in full[key].items():
            assert _counts(entered[entered[column] == value], 6, data_end) == counts, value
    month = entered["ts_1"].dt.to_period("M").dt.start_time.dt.date.astype(str)
    for value, counts in full["by_month"].items():
        assert _counts(entered[month == value], 6, data_end) == counts, value
    medians: list[float | None] = [None]
    for j in range(1, 6):
        reached = entered[entered["depth"] > j]
        gaps = [(t[j] - t[j - 1]).total_seconds() for t in reached["times"]]
        medians.append(float(np.median(gaps)))
    assert medians == full["median_time_from_previous_s"]
    # The counts never increase along the steps, and the steps are well populated.
    assert all(a >= b for a, b in zip(full["users"], full["users"][1:], strict=False))
    assert full["users"][-1] > 500


def test_sessions_are_30_minutes_of_inactivity(frames: dict[str, Any]) -> None:
    events, truth = frames["events"], frames["truth"]
    ordered = events.sort_values(["user_id", "ts"], kind="stable")
    gap = ordered.groupby("user_id")["ts"].diff().dt.total_seconds()
    new = gap.isna() | (gap > truth["events_session_gap_s"])
    computed = new.cumsum()
    pairs = pd.DataFrame({"computed": computed, "given": ordered["session_id"]}).drop_duplicates()
    # The same partition: each computed session is one session_id and vice versa.
    assert pairs["computed"].is_unique and pairs["given"].is_unique
    assert events["session_id"].nunique() == truth["events_totals"]["sessions"] == int(new.sum())
    assert (gap > truth["events_session_gap_s"]).any()  # several sessions per user exist


def test_ties_and_duplicates_in_any_row_order(frames: dict[str, Any]) -> None:
    events, totals = frames["events"], frames["truth"]["events_totals"]
    size = events.groupby(["user_id", "ts"]).size()
    assert int((size >= 2).sum()) == totals["tied_groups"] > 100
    assert int(size[size >= 2].sum()) == totals["tied_rows"]
    assert int(events.duplicated().sum()) == totals["duplicate_rows"] > 0
    # add_payment_info and purchase in one second: both row orders occur in the file.
    pair = events[events["event"].isin(["add_payment_info", "purchase"])].reset_index()
    pair = pair[pair.duplicated(["user_id", "ts"], keep=False)]
    first = pair.sort_values("index").drop_duplicates(["user_id", "ts"])["event"]
    assert set(first) == {"add_payment_info", "purchase"}


def test_tracking_gap_drops_page_views_of_the_first_weeks(frames: dict[str, Any]) -> None:
    events, truth = frames["events"], frames["truth"]
    gap = truth["events_tracking_gap"]
    first, last = pd.Timestamp(gap["first"]), pd.Timestamp(gap["last"]) + pd.Timedelta(days=1)
    # Every view_item follows its attempt's page view within an hour (the gap's cap), so a
    # view_item without a page view in the hour before has lost it.
    views = events[events["event"] == "view_item"][["user_id", "ts"]]
    pages = events[events["event"] == "page_view"][["user_id", "ts"]]
    joined = views.merge(pages, on="user_id", suffixes=("", "_pv"))
    lag = (joined["ts"] - joined["ts_pv"]).dt.total_seconds()
    covered = joined[(lag >= 0) & (lag <= 3600)].drop_duplicates(["user_id", "ts"])
    views = views.merge(covered[["user_id", "ts"]].assign(found=True), how="left")
    orphan = views["found"].isna()
    inside = views["ts"].between(first + pd.Timedelta(hours=1), last, inclusive="left")
    after = views["ts"] >= last + pd.Timedelta(hours=1)
    assert int(orphan[after].sum()) == 0
    n, x = int(inside.sum()), int(orphan[inside].sum())
    assert _within_sum(x, pd.Series([gap["drop_share"]] * n)), (x, n)
    assert gap["dropped_rows"] >= x > 0
    users = frames["users"]
    stepped = users.index.isin(
        events.loc[events["event"].isin(truth["events_steps"][1:]), "user_id"]
    )
    assert (
        int((stepped & (users["page_views"] == 0)).sum())
        == truth["events_totals"]["users_without_page_view"]
    )


def test_window_edge_users(frames: dict[str, Any]) -> None:
    events, users, truth = frames["events"], frames["users"], frames["truth"]
    edge = truth["events_window_edge_users"]
    assert len(edge["exact"]) == len(edge["past"]) == 3
    for kind, offset, depth in (("exact", WEEK, 6), ("past", WEEK + 1, 4)):
        for uid in edge[kind]:
            rows = events[events["user_id"] == uid]
            page_view = rows.loc[rows["event"] == "page_view", "ts"]
            assert len(page_view) == 1
            for step in ("add_payment_info", "purchase"):
                ts = rows.loc[rows["event"] == step, "ts"]
                assert len(ts) == 1
                assert (ts.iloc[0] - page_view.iloc[0]).total_seconds() == offset
            assert users.loc[uid, "depth"] == depth


# ---- planted probabilities --------------------------------------------------------------------
def _planted_users(frames: dict[str, Any]) -> pd.DataFrame:
    users, truth = frames["users"], frames["truth"]
    first_day = users["first_visit"].dt.normalize()
    spike = truth["events_spike"]
    edge = set(truth["events_window_edge_users"]["exact"]) | set(
        truth["events_window_edge_users"]["past"]
    )
    keep = (
        (first_day >= frames["start"] + pd.Timedelta(days=21))
        & (first_day <= frames["end"] - pd.Timedelta(days=90))
        & ~users.index.isin(edge)
    )
    out: pd.DataFrame = users[keep].copy()
    out["spike"] = first_day[keep].between(
        pd.Timestamp(spike["first"]), pd.Timestamp(spike["last"])
    )
    return out


def _planted_rate(
    truth: dict[str, Any], step: str, device: str, country: str, *, spike: bool, reviews: bool
) -> float:
    """The step rate as truth.json states it (``events_rate_formula``)."""
    p = truth["events_step_rate"][step] * truth["events_device_factor"][device].get(step, 1.0)
    p *= truth["events_country_factor"][country].get(step, 1.0)
    if spike:
        p *= truth["events_spike"]["factor"].get(step, 1.0)
    if reviews:
        p *= truth["events_reviews"]["factor"].get(step, 1.0)
    return float(p)


def test_truth_states_the_generators_rates(
    written: tuple[dict[str, Path], dict[str, Any]],
) -> None:
    truth = written[1]
    for step in truth["events_steps"][1:]:
        for device in ("desktop", "touch"):
            for country in truth["events_countries"]:
                for spike, reviews in itertools.product((False, True), repeat=2):
                    planted = step_probability(
                        step, device=device, country=country, spike=spike, reviews=reviews
                    )
                    stated = _planted_rate(
                        truth, step, device, country, spike=spike, reviews=reviews
                    )
                    assert stated == pytest.approx(planted) and 0 < planted < 1


def test_step_rates_per_device_country_spike_and_reviews(frames: dict[str, Any]) -> None:
    users, truth = _planted_users(frames), frames["truth"]
    steps = truth["events_steps"]
    checked = 0
    for j in range(2, 7):
        at = users[users["depth"] >= j - 1]
        p = pd.Series(
            [
                _planted_rate(truth, steps[j - 1], d, c, spike=bool(s), reviews=bool(r))
                for d, c, s, r in zip(
                    at["device"], at["country"], at["spike"], at["reviews"], strict=True
                )
            ],
            index=at.index,
        )
        hit = at["depth"] >= j
        # Only users at view_item can read reviews: the flag is seen from add_to_cart on.
        for column in ("device", "country", "spike", *(("reviews",) if j >= 3 else ())):
            for value, group in at.groupby(column):
                assert _within_sum(int(hit[group.index].sum()), p[group.index]), (
                    steps[j - 1],
                    column,
                    value,
                )
                checked += 1
    assert checked == 9 + 4 * 11
    # The planted contrasts are large: touch loses most between add_to_cart and purchase.
    cart = users[users["depth"] >= 3]
    rate = (cart["depth"] == 6).groupby(cart["device"]).mean()
    assert rate["desktop"] - rate["touch"] > 0.15


def test_time_from_previous_step_within_an_attempt(frames: dict[str, Any]) -> None:
    """Single-attempt users (one page view): each step's gap from the previous step."""
    events, truth = frames["events"], frames["truth"]
    users = _planted_users(frames)
    single = users.index[users["page_views"] == 1]
    steps = truth["events_steps"]
    rows = events[events["user_id"].isin(single) & events["event"].isin(steps)]
    first = rows.groupby(["user_id", "event"])["ts"].min().unstack()
    for previous, step in itertools.pairwise(steps):
        plan = truth["events_step_gap"][step]
        gap = (first[step] - first[previous]).dt.total_seconds().dropna()
        gap = gap[gap <= plan["cap_s"]]  # steps done after the window are other users' story
        ties = int((gap == 0).sum())
        assert _within_sum(ties, pd.Series([plan["tie_share"]] * len(gap))), step
        positive = gap[gap > 0]
        # P(round(X) < median) = P(X < median − 0.5) for a lognormal X.
        below = 0.5 * math.erfc(
            -math.log((plan["median_s"] - 0.5) / plan["median_s"]) / plan["sigma"] / math.sqrt(2)
        )
        x = int((positive < plan["median_s"]).sum())
        assert _within_sum(x, pd.Series([below] * len(positive))), (step, x, len(positive))
        assert positive.max() <= plan["cap_s"]


def test_late_steps_fall_after_the_window(frames: dict[str, Any]) -> None:
    """Users with a step event past their funnel depth: all of it after the window."""
    events, truth = frames["events"], frames["truth"]
    steps = truth["events_steps"]
    code = events["event"].map({s: i + 1 for i, s in enumerate(steps)})
    deepest = code.groupby(events["user_id"]).max()
    planted = _planted_users(frames)
    eligible = planted[(planted["depth"] >= 2) & (planted["depth"] < 6)]
    late = deepest.loc[eligible.index] > eligible["depth"]
    x = int(late.sum())
    assert _within_sum(x, pd.Series([truth["events_late"]["share"]] * len(eligible)))


# ---- through the loader and the funnel ---------------------------------------------------------
@pytest.fixture(scope="module")
def dataset() -> gl.Dataset:
    return gl.demo(users=12_000, seed=5)


@pytest.mark.parametrize("name", ["full", "no_payment_info"])
def test_gl_funnel_recovers_the_exact_counts(dataset: gl.Dataset, name: str) -> None:
    ds = dataset
    truth = ds.truth
    assert truth is not None and ds.has("events") and ds.window is not None
    assert [d.isoformat() for d in ds.window] == truth["window"]
    assert ds.quality.table_counts("events").accepted == truth["events_totals"]["rows"]
    found = {(f.table, f.check): f.rows for f in ds.quality.findings}
    assert found[("events", "identical_rows")] == truth["events_totals"]["duplicate_rows"]
    planted = truth["events_funnels"][name]
    result = gl.funnel(ds, planted["steps"], window="7d")
    assert result.table["users"].tolist() == planted["users"]
    assert result.table["complete"].tolist() == planted["complete"]
    medians = result.table["median_time_from_previous_s"].tolist()
    assert medians[0] != medians[0]  # NaN at step 1
    assert medians[1:] == planted["median_time_from_previous_s"][1:]
    # Per device and country, through the per-user table joined with the users' values.
    units = result.tables["users"]
    events = ds.table("events")
    who = events.select("user_id", "device", "country").distinct().to_pandas()
    units = units.merge(who, on="user_id", how="left", validate="one_to_one")
    data_end = pd.Timestamp(truth["window"][1]) + pd.Timedelta(days=1)
    for column, key in (("device", "by_device"), ("country", "by_country")):
        for value, counts in planted[key].items():
            assert _counts(units[units[column] == value], len(planted["steps"]), data_end) == counts
    # The same through the funnel's own breakdowns (by=) and trend by month of entry.
    for column, key in (("device", "by_device"), ("country", "by_country")):
        segments = gl.funnel(ds, planted["steps"], window="7d", by=column).tables["segments"]
        for value, counts in planted[key].items():
            rows = segments[segments[column].astype(str) == value].sort_values("step")
            assert rows["users"].tolist() == counts["users"], (column, value)
            assert rows["complete"].tolist() == counts["complete"], (column, value)
    trend = gl.funnel(ds, planted["steps"], window="7d", trend="month").tables["trend"]
    for month, counts in planted["by_month"].items():
        rows = trend[trend["period"].astype(str) == month].sort_values("step")
        # Step 1 is the trend's `entered` column (complete units that entered).
        assert rows["users"].tolist() == counts["users"][1:], month
        assert rows["complete"].tolist() == counts["complete"][1:], month
        assert set(rows["entered"]) == {counts["complete"][0]}, month
    k = len(planted["steps"])
    depth = units.set_index(units["user_id"].astype(str))["depth"]
    edge = truth["events_window_edge_users"]
    assert (depth.loc[edge["exact"]] == k).all()
    assert (depth.loc[edge["past"]] == 4).all()  # begin_checkout: the rest is 1 s too late


def test_generator_chains_on_hand_built_rows() -> None:
    """The generator's own ordered funnel: ties, the window edge, a later better start."""
    from growthlens.demo.events import _ordered_chains

    # user 0: page_view and view_item in one second (view_item's row first), add_to_cart
    # exactly 7 days later, begin_checkout one second past. user 1: a second page_view
    # whose window reaches view_item (the first one's misses it by 100 s).
    user = np.array([0, 0, 0, 0, 1, 1, 1], dtype=np.int64)
    ts = np.array([0, 0, WEEK, WEEK + 1, 10, 100, WEEK + 100], dtype=np.int64)
    event = np.array([1, 0, 2, 3, 0, 0, 1], dtype=np.int64)
    chains = _ordered_chains(user, ts, event, [0, 1, 2, 3], WEEK)
    assert chains.user.tolist() == [0, 1]
    assert chains.depth.tolist() == [3, 2]
    assert chains.times.tolist() == [[0, 0, WEEK, -1], [100, WEEK + 100, -1, -1]]
