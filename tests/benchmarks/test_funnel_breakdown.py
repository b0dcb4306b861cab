"""benchmarks/funnel_breakdown.py: the floor query counts what growthlens counts, and the
10× target is rendered with both baselines and the floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from tests.benchmarks.scripts import script

import growthlens as gl

STEPS = ["page_view", "view_item", "add_to_cart"]
T0 = pd.Timestamp("2024-01-01 10:00:00")


def _log() -> pd.DataFrame:
    hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    rows = [
        # 1: a plain chain to the end, mobile.
        (1, T0, "page_view", "mobile"),
        (1, T0 + hour, "view_item", "mobile"),
        (1, T0 + 2 * hour, "add_to_cart", "mobile"),
        # 2: the first start goes nowhere, a later one (on desktop) reaches step 2.
        (2, T0, "page_view", "mobile"),
        (2, T0 + 3 * day, "page_view", "desktop"),
        (2, T0 + 3 * day + hour, "view_item", "desktop"),
        # 3: step 3 one second past the 2-day window: depth 2; two step-1 rows in the
        # first second, the smaller value counts; a blank one is unknown.
        (3, T0, "page_view", "tablet"),
        (3, T0, "page_view", "desktop"),
        (3, T0 + hour, "view_item", "mobile"),
        (3, T0 + 2 * day + pd.Timedelta(seconds=1), "add_to_cart", "mobile"),
        # 4: only a blank device: unknown; reaches step 1.
        (4, T0, "page_view", ""),
        (4, T0 - hour, "view_item", ""),
    ]
    return pd.DataFrame(rows, columns=["user_id", "ts", "event", "device"])


def test_floor_query_counts_equal_growthlens_and_the_hand_count(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log().to_parquet(path, index=False)
    bench, common = script("funnel_breakdown"), script("common")
    floor = common.child(bench._FLOOR, str(path), json.dumps(STEPS), str(2 * 86400))
    expected = {"desktop": [2, 2, 0], "mobile": [1, 1, 1], "(unknown)": [1, 0, 0]}
    assert floor["by_device"] == expected
    ds = gl.load(events=path)
    seg = gl.funnel(ds, STEPS, window="2d", by="device").tables["segments"]
    engine = {
        str(d): [int(u) for u in part.sort_values("step")["users"]]
        for d, part in seg.groupby("device", observed=True)
    }
    assert engine == expected


def _results(pandas_s: float, floor_s: float, total_s: float) -> dict[str, Any]:
    row = {
        "size": 10_000_000,
        "growthlens": {"load_s": total_s / 2, "funnel_s": total_s / 2},
        "pandas": {"read_s": 1.0, "funnel_s": pandas_s - 1.0},
        "floor": {"total_s": floor_s},
    }
    return {"rows": [row]}


def test_tenfold_reads_both_baselines_and_the_floor(monkeypatch: Any) -> None:
    bench = script("funnel_breakdown")
    monkeypatch.setattr(bench, "_per_user_loop", lambda size: 100.0)
    text = " ".join(bench._tenfold(_results(pandas_s=14.0, floor_s=2.0, total_s=5.0)))
    assert "is 7.0× it (2.0 s against 14.0 s)" in text
    assert "growthlens's 2.8× is reported" in text
    assert "distance from the floor (2.5×" in text
    assert "(100.0 s at 10,000,000 events" in text and "20× — met." in text
    monkeypatch.setattr(bench, "_per_user_loop", lambda size: 40.0)
    assert "8× — not met." in " ".join(bench._tenfold(_results(14.0, 2.0, 5.0)))
    monkeypatch.setattr(bench, "_per_user_loop", lambda size: None)
    assert "per-user loop (" not in " ".join(bench._tenfold(_results(14.0, 2.0, 5.0)))
    assert bench._tenfold({"rows": []}) == []
