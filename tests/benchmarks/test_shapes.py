"""benchmarks/shapes.py honours its parameters and writes input the load accepts."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_shapes() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_shapes", BENCHMARKS / "shapes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


shapes = _load_shapes()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("shapes")
    out = {}
    for name, sessions in (("loyal", 60_000), ("oneshot", 40_000)):
        out[name] = root / name
        shapes.write(shapes.SHAPES[name], sessions, out[name])
    return out


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    visits, orders, costs = (pd.read_parquet(folder / f"{t}.parquet") for t in shapes.TABLES)
    return visits, orders, costs


@pytest.mark.parametrize("name", ["loyal", "oneshot"])
def test_parameters_are_honoured(written: dict[str, Path], name: str) -> None:
    shape = shapes.SHAPES[name]
    visits, orders, costs = _read(written[name])
    # Sessions per user near the target (the counts are drawn, not fixed).
    per_user = visits.groupby("Uid").size().mean()
    assert per_user == pytest.approx(shape.sessions_per_user, rel=0.05)
    # The window: whole months from the start; every row inside it.
    first, last = (
        pd.Timestamp(shape.start),
        pd.Timestamp(shape.start) + pd.DateOffset(months=shape.months),
    )
    for ts in (visits["Start Ts"], orders["Buy Ts"]):
        assert ts.min() >= first and ts.max() < last
    assert visits["Start Ts"].min().normalize() == first
    assert visits["Start Ts"].max().normalize() == last - pd.Timedelta(days=1)
    # Costs: every source on every day of the window, some zero-cost days, never negative.
    assert len(costs) == shape.sources * shape.days
    assert costs.groupby("source_id").dt.nunique().eq(shape.days).all()
    assert set(costs.source_id) == set(range(1, shape.sources + 1))
    assert (costs.costs == 0).any() and (costs.costs >= 0).all() and (costs.costs > 0).mean() > 0.9
    assert set(visits["Source Id"]) <= set(costs.source_id)
    # Valid rows: lengths ≥ 0, revenue > 0, unique row ids.
    assert (visits["End Ts"] >= visits["Start Ts"]).all()
    assert (orders.Revenue > 0).all()
    assert visits["Session Id"].is_unique and orders["Order Id"].is_unique
    # Buyers mostly have sessions and mostly order after their first visit.
    first_visit = visits.groupby("Uid")["Start Ts"].min()
    first_order = orders.groupby("Uid")["Buy Ts"].min()
    assert first_order.index.isin(first_visit.index).mean() > 0.99
    lag = first_order - first_visit.reindex(first_order.index)
    assert (lag.dropna() >= pd.Timedelta(0)).mean() > 0.99
    buyers = first_order.index.isin(first_visit.index).sum()
    assert buyers / len(first_visit) == pytest.approx(shape.buyer_share, rel=0.15)
    facts = json.loads((written[name] / "facts.json").read_text())
    assert facts["rows"] == {"visits": len(visits), "orders": len(orders), "costs": len(costs)}
    assert facts["users"] == len(first_visit)


def test_oneshot_ids_are_uint64_across_the_range(written: dict[str, Path]) -> None:
    field = pq.read_schema(written["oneshot"] / "visits.parquet").field("Uid")
    assert field.type == pa.uint64()
    assert pq.read_schema(written["oneshot"] / "orders.parquet").field("Uid").type == pa.uint64()
    uid = pq.read_table(written["oneshot"] / "visits.parquet").column("Uid").to_numpy()
    assert (uid > np.uint64(2**63)).mean() == pytest.approx(0.5, abs=0.05)
    assert visits_sources(written["oneshot"]) > 400  # Zipf tail: most of the 500 appear


def visits_sources(folder: Path) -> int:
    return len(pq.read_table(folder / "visits.parquet").column("Source Id").unique())


def test_loyal_ids_are_strings(written: dict[str, Path]) -> None:
    uid = pq.read_table(written["loyal"] / "visits.parquet").column("Uid")
    assert uid.type == pa.string()
    values = uid.to_pylist()[:1000]
    assert all(len(v) == 17 and v[0] == "u" and int(v[1:], 16) >= 0 for v in values)
    assert visits_sources(written["loyal"]) == 10


def test_ids_are_distinct_and_strings_match_them() -> None:
    index = np.arange(1_000_000, dtype=np.uint64)
    values = shapes.uint64_ids(index, 7)
    assert len(np.unique(values)) == len(index)
    text = shapes.string_ids(values[:5]).to_pylist()
    assert text == [f"u{int(v):016x}" for v in values[:5]]


def test_files_are_reused_unless_parameters_change(tmp_path: Path) -> None:
    shape = shapes.SHAPES["oneshot"]
    first = shapes.write(shape, 5_000, tmp_path)
    again = shapes.write(shape, 5_000, tmp_path)
    assert not first["reused"] and again["reused"]
    assert again["rows"] == first["rows"]
    other = shapes.write(dataclasses.replace(shape, seed=99), 5_000, tmp_path)
    assert not other["reused"]


def test_the_load_accepts_nearly_every_row(written: dict[str, Path]) -> None:
    import growthlens as gl

    for folder in written.values():
        ds = gl.load(
            sessions=folder / "visits.parquet",
            orders=folder / "orders.parquet",
            costs=folder / "costs.parquet",
        )
        for table in ("sessions", "orders", "costs"):
            counts = ds.quality.table_counts(table)
            # At these tiny sizes an edge day may lack orders, which trims the window.
            assert set(counts.excluded_by_reason) <= {"out_of_window"}
            assert counts.accepted >= 0.998 * counts.loaded
