"""Plain-pandas product metrics, written straight from docs/metrics.md ("Product")."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd


def in_window(sessions: pd.DataFrame, window: tuple[date, date]) -> pd.DataFrame:
    day = sessions["start_ts"].dt.date
    return sessions[(day >= window[0]) & (day <= window[1])]


def _period(ts: pd.Series, period: str) -> pd.Series:
    day = ts.dt.normalize()
    if period == "day":
        return day
    if period == "week":
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    return day - pd.to_timedelta(day.dt.day - 1, unit="D")


def _all_periods(window: tuple[date, date], period: str) -> list[pd.Timestamp]:
    days = pd.date_range(window[0], window[1], freq="D")
    return sorted(set(_period(pd.Series(days), period)))


def activity(sessions: pd.DataFrame, window: tuple[date, date]) -> dict[str, float]:
    s = in_window(sessions, window)
    out: dict[str, float] = {}
    for period, name in (("day", "dau"), ("week", "wau"), ("month", "mau")):
        counts = s.groupby(_period(s["start_ts"], period))["user_id"].nunique()
        out[name] = counts.reindex(_all_periods(window, period), fill_value=0).mean()
    out["sticky_wau"] = out["dau"] / out["wau"]
    out["sticky_mau"] = out["dau"] / out["mau"]
    per_day = s.groupby(s["start_ts"].dt.normalize()).agg(
        n=("user_id", "size"), u=("user_id", "nunique")
    )
    out["sessions_per_user_per_day"] = (per_day["n"] / per_day["u"]).mean()
    length = (s["end_ts"] - s["start_ts"]).dt.total_seconds()
    length = length[length >= 0]
    out["session_length_mean_s"] = length.mean()
    out["session_length_median_s"] = length.median()
    out["session_length_p90_s"] = float(np.percentile(length, 90))
    counts = np.floor(length).value_counts()
    out["session_length_mode_s"] = float(counts[counts == counts.max()].index.min())
    out["zero_length_share"] = float((length == 0).mean())
    return out


def retention(sessions: pd.DataFrame, window: tuple[date, date], period: str) -> pd.DataFrame:
    s = in_window(sessions, window).copy()
    s["p"] = _period(s["start_ts"], period)
    first = s.groupby("user_id")["p"].min().rename("cohort")
    s = s.join(first, on="user_id")
    sizes = first.value_counts()
    rows = []
    periods = _all_periods(window, period)
    for cohort, size in sizes.items():
        later = [p for p in periods if p >= cohort]
        for k, p in enumerate(later):
            active = s[(s["cohort"] == cohort) & (s["p"] == p)]["user_id"].nunique()
            rows.append(
                {"cohort": cohort, "age": k, "users": int(size), "retention": active / size}
            )
    return pd.DataFrame(rows).sort_values(["cohort", "age"]).reset_index(drop=True)
