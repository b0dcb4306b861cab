"""Can the orders be trusted against the reference? ``gl.reconcile`` (docs/reconcile.md).

Orders are compared with ``conversions_reference`` (e.g. the backend's copy, trusted),
row by row on a key: every class gets a count, its revenue effect and example keys —
matched, missing on each side (with their dates, and the days with an unusual number of
missing rows named as a possible outage), duplicated keys, field mismatches per column,
near misses, zero-revenue rows and, optionally, rows matched without the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from growthlens.analyses.registry import Analysis, Plan, register
from growthlens.data.dataset import Dataset
from growthlens.errors import ConfigError
from growthlens.metrics.reconcile import (
    EXAMPLES,
    KeylessRule,
    Reconciliation,
    reconcile_frames,
    shared_columns,
)
from growthlens.result import Finding, Result, Severity, SummarySpec, SummaryValue, summarize
from growthlens.stats.anomaly import MAD_TO_SD, POISSON_SD, anscombe
from growthlens.text import count_of, listing, money, precise_share
from growthlens.units import number

OUTAGE_Z = 5.0
"""Score (standard deviations on the square-root scale) from which a day's missing rows
are an outage: Poisson noise alone reaches it about once in 3.5 million days."""
MIN_DAYS = 7
"""Days with rows a side needs before its missing rows per day get a baseline."""
STAKE_SHARE = 0.005
"""Revenue effect (share of the reference's revenue) from which a finding is an error."""
LABELS = {"ts": "date", "user_id": "user"}
"""Compared columns as the classes and sentences call them."""
ALIASES = {"date": "ts", "user": "user_id", "timestamp": "ts"}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*")
_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

SUMMARY: SummarySpec = {
    "orders_rows": ("count", "Orders compared (first row per key)"),
    "reference_rows": ("count", "Reference conversions compared (first row per key)"),
    "matched": ("count", "Matched by key"),
    "exact": ("count", "Matched with every compared column equal"),
    "match_rate": ("share", "Share of reference conversions found in orders"),
    "missing_in_orders": ("count", "Reference conversions missing in orders"),
    "missing_in_reference": ("count", "Orders missing in the reference"),
    "missing_revenue_orders": ("money", "Revenue of the conversions missing in orders"),
    "missing_revenue_reference": ("money", "Revenue of the orders missing in the reference"),
    "revenue_mismatch": ("count", "Revenue mismatches (beyond the tolerance)"),
    "revenue_at_stake": ("money", "Revenue at stake (Σ|difference| of revenue mismatches)"),
    "stake_share": ("share", "Revenue at stake, share of the reference's revenue"),
    "near_miss": ("count", "Near misses (within the tolerance)"),
    "duplicated_rows_orders": ("count", "Extra rows of duplicated keys in orders"),
    "duplicated_rows_reference": ("count", "Extra rows of duplicated keys in the reference"),
    "outages": ("count", "Possible outages (runs of days)"),
    "matched_without_key": ("count", "Rows matched without the key"),
    "orders_revenue": ("money", "Revenue of the orders compared"),
    "reference_revenue": ("money", "Revenue of the reference conversions compared"),
}


@dataclass(frozen=True)
class Params:
    """Resolved options (see :func:`reconcile`)."""

    key: str | None
    tolerance: float
    window: tuple[date, date] | None
    keyless: KeylessRule | None
    columns: tuple[str, ...]
    currency: str
    load_duplicates: tuple[tuple[str, int, tuple[str, ...]], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "tolerance": self.tolerance,
            "window": None if self.window is None else [str(d) for d in self.window],
            "match_without_key": None
            if self.keyless is None
            else {"time_s": self.keyless.time_s, "revenue": self.keyless.revenue},
            "columns": [LABELS.get(c, c) for c in self.columns],
        }


@dataclass(frozen=True)
class Estimates:
    """The engine's counts, the per-day missing rows with their baseline, the outages."""

    rec: Reconciliation
    daily: pd.DataFrame
    outages: pd.DataFrame
    checked: tuple[str, ...]  # sides whose missing rows per day had a baseline


def reconcile(
    ds: Dataset,
    *,
    key: str | None = "order_id",
    tolerance: float = 0.01,
    window: tuple[Any, Any] | None = None,
    match_without_key: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> Result:
    """Reconcile orders against conversions_reference (the reference trusted).

    Rows are matched on ``key``; per side the first row of a key by the tie rule
    (earliest timestamp, then the remaining columns as text) is compared and the others
    are duplicates. Main table ``classes``: ``class``, ``rows``, ``revenue`` (its
    revenue effect) and ``examples`` (at most 5 keys, first in text order), for
    ``matched``, ``missing_in_orders`` (reference rows with no partner),
    ``missing_in_reference``, ``matched_without_key`` (with ``match_without_key``),
    ``duplicated_in_orders`` / ``duplicated_in_reference`` (extra rows and their
    revenue: what summing the table or a naive join counts twice), ``revenue_mismatch``
    (|difference| > ``tolerance``; revenue = Σ|difference|, the revenue at stake),
    ``near_miss`` (0 < |difference| ≤ ``tolerance``), ``date_mismatch`` (compared by day
    when either side has no time of day, else to the second), ``user_mismatch``, one
    ``<column>_mismatch`` per other shared column (e.g. market; revenue = the reference's
    revenue of those rows) and ``zero_revenue_orders`` / ``zero_revenue_reference``
    (distinct keys). Extra tables: ``missing_by_day`` (per day and side: rows, missing,
    revenue, expected, score, outage), ``mismatches`` (per column), ``examples`` (key,
    both values), ``outages``. See docs/reconcile.md.

    Args:
        ds: a Dataset with ``orders`` and ``conversions_reference``.
        key: the column both tables identify a conversion by; ``None`` matches every row
            without a key (``match_without_key`` is then required).
        tolerance: largest revenue difference that is not a mismatch (absolute).
        window: ``(start, end)`` dates: only keys with a row dated inside on either side
            (rows without a key: by their own date).
        match_without_key: pair the rows left without a partner one to one on the same
            user, ``time`` apart at most (``"1d"``, ``"2h"``, seconds or a timedelta;
            default ``"1d"``) and ``revenue`` apart at most (default: ``tolerance``),
            closest in time first, ties by the key as text.
        columns: columns to compare besides revenue (always compared): default ``date``,
            ``user`` and every other column both tables have (e.g. ``market``).

    Example:
        >>> import pandas as pd, growthlens as gl
        >>> from growthlens.analyses.reconcile import reconcile
        >>> o = pd.DataFrame({"order_id": ["a", "b"], "user_id": [1, 2], "revenue": [10.0,
        ...     5.0], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"])})
        >>> r = o.assign(revenue=[10.0, 7.5])
        >>> res = reconcile(gl.load(orders=o, conversions_reference=r))
        >>> row = res.table.set_index("class").loc["revenue_mismatch"]
        >>> int(row["rows"]), float(row["revenue"])
        (1, 2.5)
    """
    return RECONCILE.run(
        ds,
        key=key,
        tolerance=tolerance,
        window=window,
        match_without_key=match_without_key,
        columns=columns,
    )


def parse_duration(value: Any, option: str) -> int:
    """A duration in whole seconds: ``"1d"`` → 86400, ``"90min"``, ``3600``, a timedelta.

    >>> parse_duration("1d", "time"), parse_duration("90min", "time"), parse_duration(30, "t")
    (86400, 5400, 30)
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value)):
        seconds = float(m.group(1)) * _SECONDS[m.group(2)]
    else:
        raise ConfigError(
            f"{option} must be a duration like '30min', '2h', '1d' (s, min, h, d, w), "
            f"seconds or a timedelta; got {value!r}"
        )
    if not math.isfinite(seconds) or seconds < 0 or seconds != int(seconds):
        raise ConfigError(f"{option} must be a whole number of seconds, 0 or more; got {value!r}")
    return int(seconds)


def _amount(value: Any, option: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigError(f"{option} must be a number of 0 or more; got {value!r}")
    if not math.isfinite(float(value)):
        raise ConfigError(f"{option} must be a finite number; got {value!r}")
    return float(value)


def _date(value: Any) -> date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        raise ConfigError(f"window must be (start, end) dates like '2024-01-31'; got {value!r}")
    return stamp.date()  # type: ignore[no-any-return]


def _params(
    ds: Dataset,
    *,
    key: str | None,
    tolerance: float,
    window: tuple[Any, Any] | None,
    match_without_key: Mapping[str, Any] | None,
    columns: Sequence[str] | None,
) -> Params:
    o, r = ds.table("orders").columns, ds.table("conversions_reference").columns
    if key is not None and (not isinstance(key, str) or key not in o or key not in r):
        found = f"orders has {', '.join(o)}; conversions_reference has {', '.join(r)}"
        raise ConfigError(f"key must be a column of both tables; got {key!r} ({found})")
    tol = _amount(tolerance, "tolerance")
    span: tuple[date, date] | None = None
    if window is not None:
        if isinstance(window, str) or not isinstance(window, Sequence) or len(window) != 2:
            raise ConfigError(f"window must be (start, end) dates; got {window!r}")
        span = (_date(window[0]), _date(window[1]))
        if span[0] > span[1]:
            raise ConfigError(f"window must start before it ends; got {window!r}")
    rule: KeylessRule | None = None
    if match_without_key is not None:
        if not isinstance(match_without_key, Mapping):
            raise ConfigError(
                "match_without_key must be a mapping like {'time': '1d', 'revenue': 0.01}; "
                f"got {match_without_key!r}"
            )
        unknown = sorted(set(match_without_key) - {"time", "revenue"})
        if unknown:
            raise ConfigError(
                f"match_without_key takes 'time' and 'revenue'; got {', '.join(map(repr, unknown))}"
            )
        rule = KeylessRule(
            time_s=parse_duration(match_without_key.get("time", "1d"), "match_without_key.time"),
            revenue=_amount(match_without_key.get("revenue", tol), "match_without_key.revenue"),
        )
    elif key is None:
        raise ConfigError(
            "key=None matches rows without a key: give match_without_key, e.g. "
            "{'time': '1d', 'revenue': 0.01}"
        )
    return Params(
        key=key,
        tolerance=tol,
        window=span,
        keyless=rule,
        columns=_columns(ds, key, columns),
        currency=ds.settings.currency,
        load_duplicates=_load_duplicates(ds),
    )


def _columns(ds: Dataset, key: str | None, columns: Sequence[str] | None) -> tuple[str, ...]:
    if columns is None:
        return shared_columns(ds, key)
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise ConfigError(f"columns must be a list of column names; got {columns!r}")
    both = [c for c in shared_columns(ds, key)]
    out = ["revenue"]
    for name in columns:
        canonical = ALIASES.get(name, name) if isinstance(name, str) else name
        if canonical not in both:
            shown = ", ".join(LABELS.get(c, c) for c in both)
            raise ConfigError(
                f"columns: {name!r} is not a column of both tables (they share {shown})"
            )
        if canonical not in out:
            out.append(canonical)
    return tuple(out)


def _load_duplicates(ds: Dataset) -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    """Duplicate keys the load already resolved (policy first/last): table, rows, examples."""
    out = []
    for table in ("orders", "conversions_reference"):
        for f in ds.quality.findings_for(table):
            if f.check == "duplicate_key" and f.rows:
                ids = tuple(str(e.get("order_id", "")) for e in f.examples)
                out.append((table, f.rows, ids))
    return tuple(out)


def _compute(ds: Dataset, p: Params) -> Reconciliation:
    return reconcile_frames(
        ds,
        key=p.key,
        tolerance=p.tolerance,
        window=p.window,
        keyless=p.keyless,
        columns=p.columns,
    )


def outage_scores(days: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Score each day's missing rows of one side against a robust baseline.

    ``days``: consecutive days with ``base`` (rows of the side that has them) and
    ``missing``. The usual share missing is the median over days with rows of
    missing ÷ base; a day's expected count is that share × its base. On the
    square-root scale ``a(x) = √(x + 3/8)``, where Poisson noise has a standard
    deviation of about ½, ``score = (a(missing) − a(expected)) / s`` with ``s`` the
    spread of those differences (1.4826 × their median absolute deviation, at least ½).
    A day is an outage day when its score reaches :data:`OUTAGE_Z`. Returns the days
    with ``expected``, ``score`` and ``outage``, and whether there were enough days
    (:data:`MIN_DAYS` with rows) to score them.

    >>> d = pd.DataFrame({"base": [20] * 9 + [21], "missing": [0, 1, 0, 0, 1, 0, 0, 0, 18, 0]})
    >>> scored, ok = outage_scores(d)
    >>> ok, scored["outage"].tolist().index(True), int(scored["outage"].sum())
    (True, 8, 1)
    """
    out = days.copy()
    base = out["base"].to_numpy(dtype=float)
    missing = out["missing"].to_numpy(dtype=float)
    has = base > 0
    if has.sum() < MIN_DAYS:
        out["expected"], out["score"], out["outage"] = np.nan, np.nan, False
        return out, False
    share = float(np.median(missing[has] / base[has]))
    expected = share * base
    resid = anscombe(missing) - anscombe(expected)
    mad = float(np.median(np.abs(resid[has] - np.median(resid[has]))))
    spread = max(POISSON_SD, MAD_TO_SD * mad)
    score = np.where(has, resid / spread, np.nan)
    out["expected"] = np.where(has, expected, np.nan)
    out["score"] = score
    out["outage"] = has & (np.nan_to_num(score) >= OUTAGE_Z)
    return out, True


def _runs(scored: pd.DataFrame, missing_in: str) -> list[dict[str, Any]]:
    """Consecutive outage days merged: one row per run."""
    rows: list[dict[str, Any]] = []
    flagged = scored[scored["outage"]].sort_values("date")
    run: list[Any] = []
    for rec in flagged.to_dict("records"):
        if run and (rec["date"] - run[-1]["date"]).days != 1:
            rows.append(_run_row(run, missing_in))
            run = []
        run.append(rec)
    if run:
        rows.append(_run_row(run, missing_in))
    return rows


def _run_row(run: list[dict[str, Any]], missing_in: str) -> dict[str, Any]:
    return {
        "missing_in": missing_in,
        "start": run[0]["date"],
        "end": run[-1]["date"],
        "days": len(run),
        "missing": int(sum(r["missing"] for r in run)),
        "base": int(sum(r["base"] for r in run)),
        "expected": float(sum(r["expected"] for r in run)),
        "revenue": float(sum(r["revenue"] for r in run)),
    }


def _infer(rec: Reconciliation, p: Params) -> Estimates:
    parts, runs, checked = [], [], []
    for side in ("orders", "reference"):
        days = rec.missing_by_day[rec.missing_by_day["missing_in"] == side].reset_index(drop=True)
        scored, ok = outage_scores(days)
        parts.append(scored)
        if ok:
            checked.append(side)
            runs.extend(_runs(scored, side))
    columns = ["date", "missing_in", "base", "missing", "revenue", "expected", "score", "outage"]
    daily = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    outages = pd.DataFrame(
        runs,
        columns=["missing_in", "start", "end", "days", "missing", "base", "expected", "revenue"],
    )
    return Estimates(rec, daily, outages, tuple(checked))


def _examples_of(examples: pd.DataFrame, cls: str) -> list[str]:
    return [str(k) for k in examples.loc[examples["class"] == cls, "key"]][:EXAMPLES]


def _explain(est: Estimates, p: Params) -> Result:
    rec, t = est.rec, est.rec.totals
    ex = rec.examples.copy()
    # Metrics name mismatches by canonical column; the tables use the words users read.
    ex["class"] = ex["class"].replace({f"{c}_mismatch": f"{LABELS[c]}_mismatch" for c in LABELS})
    ref_revenue, ord_revenue = float(t["revenue_reference"]), float(t["revenue_orders"])
    base_revenue = ref_revenue if ref_revenue > 0 else ord_revenue
    classes = _classes(rec, ex, p)
    findings = _findings(est, ex, p, base_revenue)
    reference_rows = int(t["rows_reference"])
    values: dict[str, SummaryValue] = {
        "orders_rows": int(t["rows_orders"]),
        "reference_rows": reference_rows,
        "matched": int(t["matched"]),
        "exact": int(t["exact"]),
        "match_rate": int(t["matched"]) / reference_rows if reference_rows else math.nan,
        "missing_in_orders": int(t["missing_orders"]),
        "missing_in_reference": int(t["missing_reference"]),
        "missing_revenue_orders": float(t["missing_revenue_orders"]),
        "missing_revenue_reference": float(t["missing_revenue_reference"]),
        "revenue_mismatch": int(t["revenue_mismatch"]),
        "revenue_at_stake": float(t["revenue_at_stake"]),
        "stake_share": float(t["revenue_at_stake"]) / base_revenue if base_revenue else math.nan,
        "near_miss": int(t["near_miss"]),
        "duplicated_rows_orders": int(t["dup_rows_orders"]),
        "duplicated_rows_reference": int(t["dup_rows_reference"]),
        "outages": len(est.outages),
    }
    if p.keyless is not None:
        values["matched_without_key"] = int(t["keyless"])
    values["orders_revenue"] = ord_revenue
    values["reference_revenue"] = ref_revenue
    status, reason = "ok", ""
    if reference_rows == 0 or int(t["rows_orders"]) == 0:
        empty = "conversions_reference" if reference_rows == 0 else "orders"
        status, reason = "not_enough_data", f"The {empty} table has no row to compare."
    mismatches = rec.mismatches.assign(column=[LABELS.get(c, c) for c in rec.mismatches["column"]])
    compared_by = "calendar day" if rec.precision == "day" else "second"
    notes = [
        f"Rows are matched on {p.key or 'nothing (key=None)'}; per side the first row of a key "
        "(earliest timestamp, then the remaining columns as text) is compared, the others "
        "are duplicates.",
        f"Revenue differences above {p.tolerance:g} are mismatches (their sum is the revenue "
        "at stake); differences of at most that are near misses, counted apart. Timestamps "
        f"are compared by {compared_by}"
        + (
            " (one side has no time of day)."
            if rec.precision == "day"
            else " (both sides have a time of day)."
        ),
        "A possible outage: a run of consecutive days whose missing rows score "
        f"{OUTAGE_Z:g} or more against the usual share missing (median over days), on the "
        "square-root scale with a robust spread.",
    ]
    if p.keyless is not None:
        notes.append(
            f"Rows left without a partner are paired one to one on the same user, at most "
            f"{_duration_text(p.keyless.time_s)} apart and revenues at most "
            f"{p.keyless.revenue:g} apart, closest in time first (ties by the key as text); "
            "paired rows are not counted as missing."
        )
    return Result(
        name="reconcile",
        title="Reconciliation of orders with the reference",
        table=classes,
        summary=summarize(values, SUMMARY),
        findings=tuple(findings),
        tables={
            "classes": classes,
            "missing_by_day": est.daily,
            "mismatches": mismatches,
            "examples": ex,
            "outages": est.outages,
        },
        detail=("missing_by_day", "examples"),
        notes=tuple(notes),
        params=p.as_dict(),
        status=status,  # type: ignore[arg-type]
        status_reason=reason,
    )


def _duration_text(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            return count_of(seconds // size, unit)
    return count_of(seconds, "second")


def _classes(rec: Reconciliation, ex: pd.DataFrame, p: Params) -> pd.DataFrame:
    t = rec.totals
    rows: list[tuple[str, int, float]] = [
        ("matched", int(t["matched"]), float(t["matched_revenue"])),
        ("missing_in_orders", int(t["missing_orders"]), float(t["missing_revenue_orders"])),
        (
            "missing_in_reference",
            int(t["missing_reference"]),
            float(t["missing_revenue_reference"]),
        ),
    ]
    if p.keyless is not None:
        rows.append(("matched_without_key", int(t["keyless"]), float(t["keyless_revenue"])))
    rows += [
        ("duplicated_in_orders", int(t["dup_rows_orders"]), float(t["dup_revenue_orders"])),
        (
            "duplicated_in_reference",
            int(t["dup_rows_reference"]),
            float(t["dup_revenue_reference"]),
        ),
    ]
    for m in rec.mismatches.to_dict("records"):
        if m["column"] == "revenue":
            rows.append(("revenue_mismatch", int(m["rows"]), float(m["revenue"])))
            rows.append(("near_miss", int(t["near_miss"]), float(t["near_miss_revenue"])))
        else:
            rows.append((f"{LABELS.get(m['column'], m['column'])}_mismatch", int(m["rows"]),
                         float(m["revenue"])))  # fmt: skip
    rows += [
        ("zero_revenue_orders", int(t["zero_keys_orders"]), 0.0),
        ("zero_revenue_reference", int(t["zero_keys_reference"]), 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["class", "rows", "revenue"])
    frame["examples"] = [", ".join(_examples_of(ex, c)) for c in frame["class"]]
    return frame


def _severity(revenue: float, base: float) -> Severity:
    return "error" if base > 0 and revenue > STAKE_SHARE * base else "warning"


def _eg(ex: pd.DataFrame, cls: str) -> str:
    keys = _examples_of(ex, cls)
    return f", e.g. {listing(keys)}" if keys else ""


def _findings(est: Estimates, ex: pd.DataFrame, p: Params, base: float) -> list[Finding]:
    rec, t, cur = est.rec, est.rec.totals, p.currency
    key = p.key or "key"
    out: list[Finding] = []

    def share(revenue: float) -> str:
        return f", {precise_share(revenue / base)} of the reference's revenue" if base else ""

    days = est.daily
    for side, table in (
        ("orders", "reference conversion"),
        ("reference", "order"),
    ):
        n, revenue = int(t[f"missing_{side}"]), float(t[f"missing_revenue_{side}"])
        if n == 0:
            continue
        mine = days[(days["missing_in"] == side) & (days["missing"] > 0)]
        span = ""
        if len(mine):
            first, last = mine["date"].min(), mine["date"].max()
            top = mine.sort_values(["missing", "date"], ascending=[False, True]).iloc[0]
            span = (
                f"; dated {first}" + ("" if first == last else f" to {last}")
                + f" ({count_of(len(mine), 'day')}; most on {top['date']}: {int(top['missing']):,})"
            )  # fmt: skip
        no_key = int(t[f"missing_no_key_{side}"])
        where = "the reference" if side == "reference" else "orders"
        out.append(
            Finding(
                f"missing_in_{side}",
                f"{count_of(n, table)} ({money(revenue, cur)}{share(revenue)}) "
                f"{'is' if n == 1 else 'are'} missing in {where}{_eg(ex, f'missing_in_{side}')}"
                + span
                + (f"; {no_key:,} of them have no {key}" if no_key else "")
                + ".",
                _severity(revenue, base),
                {"rows": n, "revenue": revenue, "days": len(mine), "no_key": no_key},
                at_stake=revenue,
            )
        )
    for o in est.outages.to_dict("records"):
        where = "orders" if o["missing_in"] == "orders" else "the reference"
        has = "the reference's" if o["missing_in"] == "orders" else "the orders'"
        when = f"on {o['start']}" if o["days"] == 1 else f"from {o['start']} to {o['end']}"
        out.append(
            Finding(
                "reconcile_outage",
                f"Possible outage of {where} {when}: {o['missing']:,} of {has} "
                f"{o['base']:,} rows of {'that day' if o['days'] == 1 else 'those days'} are "
                f"missing in {where} ("
                + (
                    "on a usual day none are"
                    if round(float(o["expected"]), 1) == 0
                    else f"about {float(o['expected']):.1f} expected"
                )
                + "), "
                f"{money(float(o['revenue']), cur)} of revenue.",
                "error",
                {
                    "missing_in": str(o["missing_in"]),
                    "start": str(o["start"]),
                    "end": str(o["end"]),
                    "days": int(o["days"]),
                    "missing": int(o["missing"]),
                    "base": int(o["base"]),
                    "expected": float(o["expected"]),
                    "revenue": float(o["revenue"]),
                },
                at_stake=float(o["revenue"]),
            )
        )
    for side, table_name in (("orders", "orders"), ("reference", "conversions_reference")):
        extra = int(t[f"dup_rows_{side}"])
        if extra == 0:
            continue
        keys, revenue = int(t[f"dup_keys_{side}"]), float(t[f"dup_revenue_{side}"])
        out.append(
            Finding(
                f"duplicated_in_{side}",
                f"{count_of(keys, key + ' value')} {_verb(keys, 'appears', 'appear')} more "
                f"than once in {table_name} "
                f"({count_of(extra, 'extra row')}, {money(revenue, cur)} that a naive sum or "
                f"join counts twice){_eg(ex, f'duplicated_in_{side}')}; the earliest row of "
                f"each is compared. A naive inner join of the two tables on {key} gives "
                f"{count_of(int(t['join_extra_rows']), 'extra row')}.",
                "warning",
                {
                    "keys": keys,
                    "extra_rows": extra,
                    "revenue": revenue,
                    "join_extra_rows": int(t["join_extra_rows"]),
                },
                at_stake=revenue,
            )
        )
    for table_name, rows, ids in p.load_duplicates:
        out.append(
            Finding(
                "duplicates_resolved_at_load",
                f"The load kept one row per key of {table_name} and excluded "
                f"{count_of(rows, 'duplicate row')}"
                + (f" (e.g. {listing(list(ids))})" if any(ids) else "")
                + f'; they are not reconciled. Load {table_name} with duplicates = "keep" '
                "to count their ids and revenue here.",
                "warning",
                {"table": table_name, "rows": rows},
            )
        )
    n, stake = int(t["revenue_mismatch"]), float(t["revenue_at_stake"])
    if n:
        out.append(
            Finding(
                "revenue_mismatch",
                f"{count_of(n, 'matched conversion')} {_verb(n, 'differs', 'differ')} in revenue "
                f"by more than "
                f"{p.tolerance:g}: {money(stake, cur, whole_from=1e12)} at stake in total"
                f"{share(stake)}{_eg_values(ex, 'revenue_mismatch')}.",
                _severity(stake, base),
                {"rows": n, "revenue_at_stake": stake},
                at_stake=stake,
            )
        )
    n = int(t["near_miss"])
    if n:
        total = float(t["near_miss_revenue"])
        out.append(
            Finding(
                "near_miss",
                f"{count_of(n, 'matched conversion')} {_verb(n, 'differs', 'differ')} in revenue "
                f"by at most "
                f"{p.tolerance:g} ({number(total)} in total){_eg(ex, 'near_miss')}: within the "
                "tolerance, so not mismatches.",
                "info",
                {"rows": n, "difference": total},
            )
        )
    for m in rec.mismatches.to_dict("records"):
        column = str(m["column"])
        if column == "revenue" or int(m["rows"]) == 0:
            continue
        label = LABELS.get(column, column)
        how = (
            " (compared by calendar day)"
            if column == "ts" and rec.precision == "day"
            else " (compared to the second)"
            if column == "ts"
            else ""
        )
        out.append(
            Finding(
                f"{label}_mismatch",
                f"{count_of(int(m['rows']), 'matched conversion')} "
                f"{'has' if int(m['rows']) == 1 else 'have'} another {label} in orders than "
                f"in the reference{how} ({money(float(m['revenue']), cur)} of the "
                f"reference's revenue){_eg_values(ex, f'{label}_mismatch')}.",
                "warning",
                {"column": label, "rows": int(m["rows"]), "revenue": float(m["revenue"])},
                at_stake=float(m["revenue"]),
            )
        )
    for side, table_name in (("orders", "orders"), ("reference", "conversions_reference")):
        n = int(t[f"zero_keys_{side}"])
        if n:
            out.append(
                Finding(
                    f"zero_revenue_{side}",
                    f"{count_of(n, 'conversion')} in {table_name} "
                    f"{'has' if n == 1 else 'have'} a zero-revenue row (distinct {key} values)"
                    f"{_eg(ex, f'zero_revenue_{side}')}.",
                    "warning",
                    {"keys": n},
                )
            )
    if p.keyless is not None and int(t["keyless"]):
        n = int(t["keyless"])
        out.append(
            Finding(
                "matched_without_key",
                f"{count_of(n, 'order')} with no partner by {key} {_verb(n, 'matches', 'match')} "
                f"a reference conversion on user, time and revenue, one to one"
                f"{_eg(ex, 'matched_without_key')}: likely "
                "the same conversions under other ids; they are not counted as missing.",
                "warning",
                {"rows": n, "revenue": float(t["keyless_revenue"])},
            )
        )
    return out


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _eg_values(ex: pd.DataFrame, cls: str) -> str:
    rows = ex[ex["class"] == cls].head(3)
    if rows.empty:
        return ""
    parts = [
        f"{r['key']} (orders {_short(r['orders_value'])}, reference {_short(r['reference_value'])})"
        for r in rows.to_dict("records")
    ]
    return ", e.g. " + "; ".join(parts)


def _short(value: Any) -> str:
    text = str(value)
    return text.removesuffix(" 00:00:00")


def _plan(ds: Dataset) -> Plan:
    if not ds.has("orders", "conversions_reference"):
        return Plan(runs=())
    o, r = ds.table("orders").columns, ds.table("conversions_reference").columns
    if "order_id" not in o or "order_id" not in r:
        return Plan(
            runs=(),
            skipped=(
                "Reconciliation needs an order_id in both orders and conversions_reference "
                "(or gl.reconcile(ds, key=None, match_without_key=...)).",
            ),
        )
    return Plan()


RECONCILE = register(
    Analysis(
        name="reconcile",
        title="Reconciliation of orders with the reference",
        group="quality",
        needs=("orders", "conversions_reference"),
        params=_params,
        compute=_compute,
        infer=_infer,
        explain=_explain,
        plan=_plan,
    ),
    reconcile,
)

__all__ = ["outage_scores", "parse_duration", "reconcile"]
