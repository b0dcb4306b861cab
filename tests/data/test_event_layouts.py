"""Event logs in four real layouts load into a correct ``events`` table (docs/events.md).

- a table-per-step export (../shared/data/ecommerce_funnel): zero config, and the
  documented growthlens.toml with ``constants`` and a ``lookup``;
- lead → deal tables (../shared/data/olist_marketing_funnel);
- the GA4 BigQuery export (nested), from a generated fixture in Parquet and JSON lines;
- a flat GA4-like export with ISO or integer-microsecond times.

Expected figures on the real files are computed here with plain pandas, independently of
the loader; the GA4 flattening is compared with a plain-Python walk over the records.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import growthlens as gl
from growthlens.errors import ConfigError, DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ECOMMERCE = SHARED / "ecommerce_funnel"
OLIST = SHARED / "olist_marketing_funnel"
PAGES = ("home_page", "search_page", "payment_page", "payment_confirmation")
STEPS = ["home_page", "search_page", "payment_page", "payment_confirmation_page"]
needs_ecommerce = pytest.mark.skipif(
    not (ECOMMERCE / "user_table.csv").exists(),
    reason=f"real exports not found at {ECOMMERCE} (they live outside the repository)",
)
needs_olist = pytest.mark.skipif(
    not (OLIST / "olist_closed_deals_dataset.csv").exists(),
    reason=f"real exports not found at {OLIST} (they live outside the repository)",
)


# -- table-per-step export ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ecommerce_oracle() -> pd.DataFrame:
    """Per user: device, sign-up date and whether each page table lists them (pandas)."""
    users = pd.read_csv(ECOMMERCE / "user_table.csv", dtype=str)
    for page in PAGES:
        listed = pd.read_csv(ECOMMERCE / f"{page}_table.csv", dtype=str)
        users[page] = users.user_id.isin(set(listed.user_id))
    return users


@pytest.fixture(scope="module")
def ecommerce() -> gl.Dataset:
    return gl.load(ECOMMERCE)


def _step_users(ds: gl.Dataset, steps: list[Any]) -> list[int]:
    result = gl.funnel(ds, steps, window="1d")
    return [int(n) for n in result.table["users"]]


def _oracle_steps(users: pd.DataFrame) -> list[int]:
    # A user counts at step k when they are listed in pages 1..k (all share one time).
    reached = pd.Series(True, index=users.index)
    counts = []
    for page in PAGES:
        reached &= users[page]
        counts.append(int(reached.sum()))
    return counts


@needs_ecommerce
def test_table_per_step_folder_loads_with_zero_config(
    ecommerce: gl.Dataset, ecommerce_oracle: pd.DataFrame
) -> None:
    events = ecommerce.quality.table_counts("events")
    rows = sum(len(pd.read_csv(ECOMMERCE / f"{p}_table.csv")) for p in PAGES)
    assert (events.loaded, events.accepted, events.excluded) == (rows, rows, 0)
    assert ecommerce.quality.table_counts("customers").accepted == len(ecommerce_oracle)
    assert set(ecommerce.table("events").columns) >= {"user_id", "ts", "event", "device", "sex"}
    assert _step_users(ecommerce, STEPS) == [90_400, 45_200, 6_030, 452]
    assert _oracle_steps(ecommerce_oracle) == [90_400, 45_200, 6_030, 452]


@needs_ecommerce
def test_table_per_step_times_are_the_sign_up_dates(
    ecommerce: gl.Dataset, ecommerce_oracle: pd.DataFrame
) -> None:
    events = ecommerce.table("events")
    by_day = events.group_by(event=events.event, day=events.ts.date().cast("string"))
    rows = by_day.aggregate(n=events.count()).to_pyarrow().to_pylist()
    got = {(r["event"], r["day"]): r["n"] for r in rows}
    names = dict(zip(PAGES, STEPS, strict=True))
    expected: dict[tuple[str, str], int] = {}
    for page in PAGES:
        for day, n in ecommerce_oracle[ecommerce_oracle[page]].groupby("date").size().items():
            expected[(names[page], str(day))] = int(n)
    assert got == expected


@needs_ecommerce
@pytest.mark.parametrize(
    ("window", "order"), [("1s", "ordered"), ("7d", "strict"), ("1s", "unordered")]
)
def test_table_per_step_counts_do_not_depend_on_window_or_order(
    ecommerce: gl.Dataset, window: str, order: str
) -> None:
    # Every step of a user shares the sign-up date: the step list alone orders them.
    result = gl.funnel(ecommerce, STEPS, window=window, order=order)  # type: ignore[arg-type]
    assert result.table["users"].tolist() == [90_400, 45_200, 6_030, 452]


@needs_ecommerce
@pytest.mark.parametrize("device", ["Desktop", "Mobile"])
def test_table_per_step_device_steps_match_pandas(
    ecommerce: gl.Dataset, ecommerce_oracle: pd.DataFrame, device: str
) -> None:
    steps = [{"event": s, "device": device} for s in STEPS]
    got = gl.funnel(ecommerce, steps, window="1d").table
    expected = _oracle_steps(ecommerce_oracle[ecommerce_oracle.device == device])
    assert [int(n) for n in got["users"]] == expected
    rates = [b / a for a, b in itertools.pairwise(expected)]
    assert got["conversion_from_previous"].iloc[1:].tolist() == pytest.approx(rates)


ECOMMERCE_TOML = """
[customers]
path = "{folder}/user_table.csv"

[[events.sources]]
path = "{folder}/home_page_table.csv"
constants = {{ event = "home" }}
lookup = {{ path = "{folder}/user_table.csv", on = "user_id" }}
columns = {{ ts = "date" }}

[[events.sources]]
path = "{folder}/search_page_table.csv"
constants = {{ event = "search" }}
lookup = {{ path = "{folder}/user_table.csv", on = "user_id", columns = ["date", "device"] }}
columns = {{ ts = "date" }}

[[events.sources]]
path = "{folder}/payment_page_table.csv"
constants = {{ event = "payment" }}
lookup = {{ path = "{folder}/user_table.csv", on = "user_id" }}
columns = {{ ts = "date" }}

[[events.sources]]
path = "{folder}/payment_confirmation_table.csv"
constants = {{ event = "confirmation" }}
lookup = {{ path = "{folder}/user_table.csv", on = "user_id" }}
columns = {{ ts = "date" }}
"""


@needs_ecommerce
def test_table_per_step_documented_config(tmp_path: Path) -> None:
    config = tmp_path / "growthlens.toml"
    config.write_text(ECOMMERCE_TOML.format(folder=ECOMMERCE))
    ds = gl.load(config)
    assert _step_users(ds, ["home", "search", "payment", "confirmation"]) == [
        90_400,
        45_200,
        6_030,
        452,
    ]
    # The page column is kept as a property; sex is not brought for search events.
    events = ds.table("events")
    assert {"home_page", "search_page", "device", "sex"} <= set(events.columns)
    nulls = events.filter(events.event == "search").sex.count().to_pyarrow().as_py()
    assert nulls == 0


# -- lead → deal ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def olist_oracle() -> pd.DataFrame:
    """Per lead: origin, first contact, won time (plain pandas, read independently)."""
    leads = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv", dtype=str)
    deals = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv", dtype=str)
    leads["contact"] = pd.to_datetime(leads.first_contact_date.str.strip(), format="%d-%m-%Y")
    deals["won"] = pd.to_datetime(deals.won_date)
    merged = leads.merge(deals[["mql_id", "won"]], on="mql_id", how="left")
    merged["origin"] = merged.origin.fillna("").str.strip().replace("", "(unknown)")
    return merged


OLIST_TOML = """
[[events.sources]]
path = "{folder}/olist_marketing_qualified_leads_dataset.csv"
columns = {{ user_id = "mql_id", ts = "first_contact_date" }}
constants = {{ event = "first_contact" }}
timestamp_format = "%d-%m-%Y"

[[events.sources]]
path = "{folder}/olist_closed_deals_dataset.csv"
columns = {{ user_id = "mql_id", ts = "won_date" }}
constants = {{ event = "won" }}
"""


@pytest.fixture(scope="module")
def olist(tmp_path_factory: pytest.TempPathFactory) -> gl.Dataset:
    config = tmp_path_factory.mktemp("olist") / "growthlens.toml"
    config.write_text(OLIST_TOML.format(folder=OLIST))
    return gl.load(config)


@needs_olist
def test_lead_to_deal_counts(olist: gl.Dataset, olist_oracle: pd.DataFrame) -> None:
    counts = olist.quality.table_counts("events")
    assert (counts.loaded, counts.accepted, counts.excluded) == (8_842, 8_842, 0)
    won = olist_oracle.won.notna()
    in_order = won & (olist_oracle.won >= olist_oracle.contact)
    assert (won.sum(), in_order.sum()) == (842, 841)  # the deal won before its contact
    ordered = gl.funnel(olist, ["first_contact", "won"], window="1000d").table
    unordered = gl.funnel(olist, ["first_contact", "won"], window="1000d", order="unordered")
    assert ordered["users"].tolist() == [8_000, 841]
    assert unordered.table["users"].tolist() == [8_000, 842]
    days = (olist_oracle.won - olist_oracle.contact)[in_order].dt.total_seconds()
    assert ordered["median_time_from_previous_s"].iloc[1] == days.median()
    assert round(days.median() / 86400, 2) == 14.72


@needs_olist
def test_lead_to_deal_zero_config_folder(olist: gl.Dataset) -> None:
    ds = gl.load(OLIST)
    steps = ["first_contact", "won"]
    assert gl.funnel(ds, steps, window="1000d").table["users"].tolist() == [8_000, 841]
    assert sorted(ds.table("events").columns) == sorted(olist.table("events").columns)


@needs_olist
def test_lead_to_deal_conversion_by_origin(olist: gl.Dataset, olist_oracle: pd.DataFrame) -> None:
    in_order = olist_oracle.won.notna() & (olist_oracle.won >= olist_oracle.contact)
    expected = olist_oracle.assign(won_ok=in_order).groupby("origin").won_ok.agg(["size", "sum"])
    assert expected.loc["(unknown)", "size"] == 60
    known = [o for o in expected.index if o != "(unknown)"]
    total_won = 0
    for origin in known:
        steps: list[str | dict[str, str]] = [{"event": "first_contact", "origin": origin}, "won"]
        users = gl.funnel(olist, steps, window="1000d").table["users"].tolist()
        assert users == [expected.loc[origin, "size"], expected.loc[origin, "sum"]], origin
        total_won += users[1]
    # Blank origins load as nulls: the rest of the leads and deals are theirs.
    events = olist.table("events")
    blank = events.filter((events.event == "first_contact") & events.origin.isnull())
    assert blank.count().to_pyarrow().as_py() == expected.loc["(unknown)", "size"]
    assert 841 - total_won == expected.loc["(unknown)", "sum"]


# -- GA4 BigQuery export (nested) ---------------------------------------------------------

VALUE = pa.struct(
    [
        ("string_value", pa.string()),
        ("int_value", pa.int64()),
        ("float_value", pa.float64()),
        ("double_value", pa.float64()),
    ]
)
GA4_SCHEMA = pa.schema(
    [
        ("event_date", pa.string()),
        ("event_timestamp", pa.int64()),
        ("event_name", pa.string()),
        ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", VALUE)]))),
        ("user_id", pa.string()),
        ("user_pseudo_id", pa.string()),
        (
            "device",
            pa.struct(
                [
                    ("category", pa.string()),
                    ("operating_system", pa.string()),
                    ("web_info", pa.struct([("browser", pa.string())])),
                ]
            ),
        ),
        ("geo", pa.struct([("country", pa.string()), ("city", pa.string())])),
        (
            "traffic_source",
            pa.struct([("name", pa.string()), ("medium", pa.string()), ("source", pa.string())]),
        ),
        ("platform", pa.string()),
    ]
)
FUNNEL = ("page_view", "view_item", "add_to_cart", "begin_checkout", "purchase")


def _param(key: str, value: str | int | float) -> dict[str, Any]:
    kind = {str: "string_value", int: "int_value", float: "double_value"}[type(value)]
    slots: dict[str, Any] = dict.fromkeys(
        ("string_value", "int_value", "float_value", "double_value")
    )
    return {"key": key, "value": {**slots, kind: value}}


def ga4_records(users: int, seed: int) -> list[dict[str, Any]]:
    """GA4 export rows: sessions of page views going some way down the shop funnel."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 4, tzinfo=UTC)
    rows = []
    for u in range(users):
        pseudo = f"{rng.randrange(10**9)}.{1609459200 + u}"
        device = rng.choice(["mobile", "desktop", "tablet"])
        country = rng.choice(["Germany", "France", ""])
        source = rng.choice([("google", "organic"), ("(direct)", "(none)"), ("mail", "email")])
        for number in range(1, rng.randint(1, 3) + 1):
            at = start + timedelta(days=rng.randrange(20), seconds=rng.randrange(86400))
            session = int(at.timestamp())
            depth = rng.randint(1, len(FUNNEL))
            for name in FUNNEL[:depth]:
                at += timedelta(microseconds=rng.randrange(1, 90_000_000))
                params = [
                    _param("ga_session_id", session),
                    _param("ga_session_number", number),
                    _param("page_location", f"https://shop.example/{name}?u={u}"),
                ]
                if rng.random() < 0.5:
                    params.append(_param("engagement_time_msec", rng.randrange(100, 9000)))
                if name == "purchase":
                    params.append(_param("value", round(rng.uniform(5, 200), 2)))
                rng.shuffle(params)  # GA4 gives no order of the keys
                rows.append(
                    {
                        "event_date": at.strftime("%Y%m%d"),
                        "event_timestamp": int(at.timestamp()) * 1_000_000 + at.microsecond,
                        "event_name": name,
                        "event_params": params,
                        "user_id": None if rng.random() < 0.7 else f"member{u}",
                        "user_pseudo_id": pseudo,
                        "device": {
                            "category": device,
                            "operating_system": "Android" if device == "mobile" else "Windows",
                            "web_info": {"browser": "Chrome"},
                        },
                        "geo": {"country": country or None, "city": None},
                        "traffic_source": {
                            "name": "(organic)",
                            "medium": source[1],
                            "source": source[0],
                        },
                        "platform": "WEB",
                    }
                )
    return rows


def _flatten_by_hand(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The documented flattening, written out for one record in plain Python."""
    params = {p["key"]: p["value"] for p in row["event_params"]}

    def value(key: str) -> Any:
        v = params.get(key)
        if v is None:
            return None
        if key in ("ga_session_id", "ga_session_number", "engagement_time_msec"):
            return v["int_value"]
        for kind in ("string_value", "int_value", "double_value", "float_value"):
            if v[kind] is not None:
                return str(v[kind])
        return None

    micros = row["event_timestamp"]
    ts = datetime(1970, 1, 1) + timedelta(microseconds=micros)
    out = {
        "user_id": row["user_pseudo_id"],
        "ts": ts,
        "event": row["event_name"],
        "session_id": f"{row['user_pseudo_id']}-{value('ga_session_id')}",
        "device": row["device"]["category"],
        "os": row["device"]["operating_system"],
        "browser": row["device"]["web_info"]["browser"],
        "country": row["geo"]["country"],
        "city": row["geo"]["city"],
        "source": row["traffic_source"]["source"],
        "medium": row["traffic_source"]["medium"],
        "campaign": row["traffic_source"]["name"],
        "ga_user_id": row["user_id"],
        "event_date": row["event_date"],
        "platform": row["platform"],
    }
    out.update({k: value(k) for k in keys})
    return out


def _write(records: list[dict[str, Any]], folder: Path, kind: str) -> Path:
    if kind == "parquet":
        path = folder / "events_20210104.parquet"
        pq.write_table(pa.Table.from_pylist(records, schema=GA4_SCHEMA), path)
    else:
        path = folder / "events_20210104.jsonl"
        with path.open("w") as f:
            for r in records:
                # BigQuery's JSON export writes INT64 as text: the timestamp here.
                f.write(json.dumps({**r, "event_timestamp": str(r["event_timestamp"])}) + "\n")
    return path


def _sorted_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.astype(object).where(frame.notna(), None)
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in frame.to_dict("records")
    ]
    for r in records:
        r["ts"] = pd.Timestamp(r["ts"]).to_pydatetime()
        for key in ("ga_session_id", "ga_session_number", "engagement_time_msec"):
            if r.get(key) is not None:
                r[key] = int(r[key])
    return sorted(records, key=lambda r: (r["user_id"], r["ts"], r["event"]))


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_ga4_nested_export_flattens_like_the_records_say(tmp_path: Path, kind: str) -> None:
    records = ga4_records(60, seed=7)
    ds = gl.load(events=_write(records, tmp_path, kind))
    counts = ds.quality.table_counts("events")
    assert counts.preset == "ga4_bigquery"
    assert (counts.loaded, counts.accepted) == (len(records), len(records))
    keys = (
        "ga_session_id",
        "ga_session_number",
        "page_location",
        "page_title",
        "page_referrer",
        "engagement_time_msec",
    )
    got = _sorted_records(ds.table("events").to_pandas())
    expected = sorted(
        (_flatten_by_hand(r, keys) for r in records),
        key=lambda r: (r["user_id"], r["ts"], r["event"]),
    )
    assert got == expected


def test_ga4_params_option_chooses_the_columns(tmp_path: Path) -> None:
    records = ga4_records(15, seed=3)
    path = _write(records, tmp_path, "parquet")
    ds = gl.load(events={"path": str(path), "params": ["value", "page_location"]})
    events = ds.table("events")
    assert "page_title" not in events.columns
    assert "engagement_time_msec" not in events.columns
    values = events.filter(events.event == "purchase").value.to_pyarrow().to_pylist()
    expected = [
        str(p["value"]["double_value"])
        for r in records
        if r["event_name"] == "purchase"
        for p in r["event_params"]
        if p["key"] == "value"
    ]
    assert sorted(values) == sorted(expected)


def test_ga4_hand_checked_funnel(tmp_path: Path) -> None:
    def event(user: str, name: str, second: int, session: int = 1) -> dict[str, Any]:
        micros = (1609459200 + second) * 1_000_000
        return {
            "event_date": "20210101",
            "event_timestamp": micros,
            "event_name": name,
            "event_params": [_param("ga_session_id", session)],
            "user_id": None,
            "user_pseudo_id": user,
            "device": {
                "category": "mobile" if user != "c" else "desktop",
                "operating_system": None,
                "web_info": {"browser": None},
            },
            "geo": {"country": "Germany", "city": None},
            "traffic_source": {"name": None, "medium": None, "source": None},
            "platform": "WEB",
        }

    records = [
        # a: view → cart → purchase within a minute
        event("a", "page_view", 0),
        event("a", "add_to_cart", 10),
        event("a", "purchase", 60),
        # b: view → cart, then purchase the next day, in a second session
        event("b", "page_view", 0),
        event("b", "add_to_cart", 5),
        event("b", "purchase", 86_400 + 5, session=2),
        # c: purchase before the view (out of order), never adds to cart
        event("c", "purchase", 0),
        event("c", "page_view", 30),
    ]
    ds = gl.load(events=_write(records, tmp_path, "parquet"))
    steps = ["page_view", "add_to_cart", "purchase"]
    by_user = gl.funnel(ds, steps, window="1h").table["users"].tolist()
    assert by_user == [3, 2, 1]  # b buys a day later: outside one hour
    assert gl.funnel(ds, steps, window="2d").table["users"].tolist() == [3, 2, 2]
    by_session = gl.funnel(ds, steps, window="2d", unit="session").table["users"].tolist()
    assert by_session == [3, 2, 1]  # b's purchase is in another session
    mobile = [{"event": s, "device": "mobile"} for s in steps]
    assert gl.funnel(ds, mobile, window="2d").table["users"].tolist() == [2, 2, 2]


# -- flat GA4-like export -------------------------------------------------------------------

FLAT = [
    ("page_view", "2021-01-01T10:00:00", "u1", "mobile", "DE", "google"),
    ("add_to_cart", "2021-01-01T10:02:30", "u1", "mobile", "DE", "google"),
    ("page_view", "2021-01-01T11:00:00", "u2", "desktop", "FR", "(direct)"),
    ("purchase", "2021-01-01T10:05:00", "u1", "mobile", "DE", "google"),
]
FLAT_COLUMNS = ["event_name", "event_timestamp", "user_pseudo_id", "device", "country", "source"]


def _flat_frame(micros: bool) -> pd.DataFrame:
    frame = pd.DataFrame(FLAT, columns=FLAT_COLUMNS)
    if micros:
        stamps = pd.to_datetime(frame.event_timestamp).dt.tz_localize("UTC")
        frame["event_timestamp"] = (stamps - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(
            microseconds=1
        )
    return frame


@pytest.mark.parametrize(
    ("kind", "micros"),
    [("csv", False), ("csv", True), ("parquet", True), ("parquet", False), ("jsonl", True)],
)
def test_flat_ga4_export_loads_with_zero_config(tmp_path: Path, kind: str, micros: bool) -> None:
    frame = _flat_frame(micros)
    path = tmp_path / f"events.{kind}"
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    ds = gl.load(events=path)
    assert ds.quality.table_counts("events").preset == "ga4_flat"
    events = ds.table("events").to_pandas().sort_values(["user_id", "ts"])
    assert events.ts.dt.strftime("%Y-%m-%dT%H:%M:%S").tolist() == [
        "2021-01-01T10:00:00",
        "2021-01-01T10:02:30",
        "2021-01-01T10:05:00",
        "2021-01-01T11:00:00",
    ]
    assert {"device", "country", "source"} <= set(events.columns)
    result = gl.funnel(ds, ["page_view", "add_to_cart", "purchase"], window="1h")
    assert result.table["users"].tolist() == [2, 1, 1]


def test_epoch_times_follow_the_dataset_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    _flat_frame(micros=True).to_csv(path, index=False)
    ds = gl.load(events=path, timezone="Europe/Berlin")
    first = ds.table("events").ts.min().to_pyarrow().as_py()
    assert first == datetime(2021, 1, 1, 11, 0)  # 10:00 UTC is 11:00 in Berlin in winter


@pytest.mark.parametrize(
    ("unit", "numbers"),
    [("s", [1609495200]), ("ms", [1609495200000]), ("ns", [1609495200000000000])],
)
def test_stated_units(tmp_path: Path, unit: str, numbers: list[int]) -> None:
    path = tmp_path / "events.csv"
    pd.DataFrame({"uid": ["u"], "action": ["open"], "time": numbers}).to_csv(path, index=False)
    ds = gl.load(events={"path": str(path), "columns": {"ts": "time"}, "timestamp_unit": unit})
    assert ds.table("events").ts.min().to_pyarrow().as_py() == datetime(2021, 1, 1, 10, 0)


def test_integer_times_without_a_unit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    pd.DataFrame({"uid": ["u"], "action": ["open"], "time": [1609495200]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="timestamp_unit") as err:
        gl.load(events={"path": str(path), "columns": {"ts": "time"}})
    assert err.value.column == "time" and err.value.source == "events.csv"


def test_a_wrong_unit_is_refused_with_the_likely_one(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    pd.DataFrame({"uid": ["u"], "action": ["open"], "time": [1609495200]}).to_csv(path, index=False)
    with pytest.raises(DataError, match='timestamp_unit = "s"'):
        gl.load(events={"path": str(path), "columns": {"ts": "time"}, "timestamp_unit": "us"})


# -- the mechanisms: constants and lookups ------------------------------------------------


def _files(tmp_path: Path, users: str, steps: str) -> tuple[Path, Path]:
    (tmp_path / "users.csv").write_text(users)
    (tmp_path / "cart.csv").write_text(steps)
    return tmp_path / "users.csv", tmp_path / "cart.csv"


def test_rows_without_a_lookup_match_are_excluded_and_counted(tmp_path: Path) -> None:
    users, cart = _files(
        tmp_path,
        "id,signup,device\n1,2021-01-01,Mobile\n2,2021-01-02,Desktop\n",
        "user_id\n1\n2\n3\n",
    )
    source = {
        "path": str(cart),
        "constants": {"event": "cart", "flow": 2},
        "lookup": {"path": str(users), "on": ["user_id", "id"]},
        "columns": {"ts": "signup"},
    }
    ds = gl.load(events=source)
    counts = ds.quality.table_counts("events")
    assert (counts.loaded, counts.accepted, counts.excluded) == (3, 2, 1)
    assert counts.excluded_by_reason == {"missing_ts": 1}
    rows = ds.table("events").to_pandas().sort_values("user_id")
    assert rows.device.tolist() == ["Mobile", "Desktop"]
    assert rows.event.tolist() == ["cart", "cart"] and rows.flow.tolist() == [2, 2]


def test_repeated_lookup_keys_are_refused(tmp_path: Path) -> None:
    users, cart = _files(tmp_path, "user_id,signup\n1,2021-01-01\n1,2021-01-03\n", "user_id\n1\n")
    source = {
        "path": str(cart),
        "constants": {"event": "cart"},
        "lookup": {"path": str(users)},
        "columns": {"ts": "signup"},
    }
    with pytest.raises(DataError, match="more than once") as err:
        gl.load(events=source)
    assert "users.csv" in str(err.value) and "'1'" in str(err.value)


@pytest.mark.parametrize(
    ("lookup", "constants", "message"),
    [
        ({"on": "uid"}, {"event": "cart"}, "lookup key column 'uid'"),
        ({"on": ["uid", "user_id"]}, {"event": "cart"}, "lookup key column 'uid'"),
        ({"columns": ["nope"]}, {"event": "cart"}, "'nope'"),
        ({}, {"user_id": "x", "event": "cart"}, "already has"),
    ],
)
def test_lookup_and_constant_mistakes_name_the_fix(
    tmp_path: Path, lookup: dict[str, Any], constants: dict[str, Any], message: str
) -> None:
    users, cart = _files(tmp_path, "user_id,signup\n1,2021-01-01\n", "user_id\n1\n")
    source = {
        "path": str(cart),
        "constants": constants,
        "lookup": {"path": str(users), **lookup},
        "columns": {"ts": "signup"},
    }
    with pytest.raises(DataError, match=message):
        gl.load(events=source)


def test_constant_and_mapping_of_one_column_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both a constant and a column mapping"):
        gl.load(events={"path": "x.csv", "constants": {"event": "a"}, "columns": {"event": "b"}})


def test_params_on_a_flat_source_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    _flat_frame(micros=False).to_csv(path, index=False)
    with pytest.raises(ConfigError, match="params"):
        gl.load(events={"path": str(path), "params": ["page_location"]})


def test_an_unknown_folder_layout_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y,z\n1,2,3\n")
    with pytest.raises(ConfigError, match="no known layout"):
        gl.load(tmp_path)


@pytest.mark.parametrize("kind", ["parquet", "jsonl"])
def test_a_ga4_file_loads_with_zero_config(tmp_path: Path, kind: str) -> None:
    records = ga4_records(5, seed=11)
    ds = gl.load(_write(records, tmp_path, kind))
    assert ds.quality.table_counts("events").accepted == len(records)
    assert ds.quality.table_counts("events").preset == "ga4_bigquery"


def test_an_unknown_data_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match="no known layout"):
        gl.load(path)
