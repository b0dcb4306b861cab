"""Attribution credit per touch, in the engine (DESIGN §4, Attribution; docs/attribution.md).

:func:`touch_credit` gives one row per touch of every conversion (the journeys of
:mod:`growthlens.derive.journeys`) with the credit the model gives it; a conversion without
touches has one ``(no touch)`` row with credit 1. Touches are ordered by time, then session
id; ``pos`` is the 0-based place, ``n`` the journey's length.

- ``first_touch`` / ``last_touch``: 1 to the first / last touch.
- ``last_non_direct``: 1 to the last touch whose channel is not direct (the names in the
  setting ``direct_channels`` (default ``direct``, ``(direct)``, ``(none)``);
  compared trimmed and case-insensitively); all direct → the last touch.
- ``linear``: 1/n each.
- ``time_decay``: weight 2^(−(conv_ts − ts)/half_life) (seconds), normalised per
  conversion. Computed relative to the journey's most recent touch, so it cannot underflow
  to 0/0 on old journeys; a touch without a time counts as at the conversion.
- ``position_based`` (p_first, p_mid, p_last): n = 1 → 1; n = 2 → p_first/(p_first +
  p_last) and p_last/(p_first + p_last) (0.5 each by default, as Google Analytics; 0.5
  each too when both are 0); n ≥ 3 → p_first, p_mid/(n − 2) each in the middle, p_last.
- ``shapley``: 1/|distinct channels| per channel, split equally over that channel's
  touches (the exact Shapley value of v(S) = conversions whose channel set ⊆ S).
- ``markov``: per conversion, the removal effects (:mod:`growthlens.stats.markov`) of the
  journey's distinct channels, normalised to 1 (equal split when all are 0), each
  channel's share split equally over its touches.
- ``given``: the touchpoints' ``weight`` as stored (null → 0); ``normalise_weights``
  rescales each conversion's weights to sum to 1.

``revenue_credit`` = credit × the conversion's revenue, in every model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from growthlens.data.dataset import Dataset
from growthlens.derive.journeys import (
    CONVERSIONS,
    JOURNEYS,
    NO_TOUCH,
    NULL_JOURNEYS,
    UNKNOWN,
    data_end_s,
    given_touchpoints,
)
from growthlens.errors import ConfigError
from growthlens.metrics.fetch import fetch

MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "given",
)
"""Every attribution model, in the order tables show them."""
RULE_MODELS = MODELS[:6]
"""Models whose credit is a rule of the journey alone (no fit to the data)."""
DIRECT_CHANNELS = ("direct", "(direct)", "(none)")
"""Channel names that are "direct" for last_non_direct unless the setting says otherwise."""
DAY_S = 86400

OUTPUT_COLUMNS = (
    "conversion_id",
    "session_id",
    "user_id",
    "ts",
    "conv_ts",
    "channel",
    "campaign",
    "market",
    "credit",
    "revenue_credit",
)


def direct_channels(ds: Dataset) -> tuple[str, ...]:
    """The channel names counted as direct (the setting ``direct_channels``)."""
    return tuple(ds.settings.direct_channels)


def check_model(model: object) -> str:
    """``model`` when it is one of :data:`MODELS`, else a ConfigError."""
    if not isinstance(model, str) or model not in MODELS:
        raise ConfigError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    return model


def check_position(position: object) -> tuple[float, float, float]:
    """Position-based shares (first, middle, last): three numbers ≥ 0 summing to 1."""
    ok = isinstance(position, Sequence) and not isinstance(position, str) and len(position) == 3
    values: list[float] = []
    if ok:
        assert isinstance(position, Sequence)
        for v in position:
            if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
                ok = False
                break
            values.append(float(v))
    if not ok or abs(sum(values) - 1) > 1e-9:
        raise ConfigError(
            "position must be three shares (first, middle, last), each ≥ 0, summing to 1, "
            f"e.g. (0.4, 0.2, 0.4); got {position!r}"
        )
    return values[0], values[1], values[2]


def _check_seconds(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive whole number of seconds; got {value!r}")
    return value


def journeys(ds: Dataset, lookback_s: int = 30 * DAY_S) -> ir.Table:
    """The journeys table (one row per touch; see :mod:`growthlens.derive.journeys`)."""
    _check_seconds("lookback_s", lookback_s)
    # The lookback does not apply to given touchpoints: one cached table for any.
    return ds.derived(JOURNEYS(lookback_s=0 if given_touchpoints(ds) else lookback_s))


def _direct(channel: ir.StringValue, names: Sequence[str]) -> ir.BooleanValue:
    lowered = [n.strip().lower() for n in names]
    return channel.strip().lower().isin(lowered)


def _shapley_parts(j: ir.Table) -> ir.Table:
    """``_m`` (touches of the channel in the journey), ``_k`` (its distinct channels)."""
    return j.mutate(_m=j.channel_touches, _k=j.channels)


def credit_columns(
    j: ir.Table,
    models: Sequence[str],
    *,
    half_life_s: int = 7 * DAY_S,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
    normalise_weights: bool = False,
    direct: Sequence[str] = DIRECT_CHANNELS,
    removal_effects: pd.DataFrame | None = None,
) -> ir.Table:
    """``j`` (journeys) with a credit column ``c_<model>`` for each model in ``models``.

    ``removal_effects`` (columns channel, removal_effect) is needed for ``markov``.
    Rows of conversions without touches get 1 in every model.
    """
    conv = ibis.window(group_by="conversion_id")
    pos, n = j.pos, j.n
    last = pos == n - 1
    cols: dict[str, ir.Value] = {}
    if "last_non_direct" in models:
        j = j.mutate(
            _lnd=ibis.ifelse(_direct(j.channel, direct), ibis.null("int64"), j.pos).max().over(conv)
        )
    if "time_decay" in models:
        # A touch without a time (a touchpoint naming no known session) counts as at
        # the conversion's time, so its journey's credit still sums to 1.
        age = (j.conv_ts.epoch_seconds() - j.ts.epoch_seconds()).cast("float64").fill_null(0.0)
        j = j.mutate(_age=age)
        j = j.mutate(_age=j._age - j._age.min().over(conv))
        j = j.mutate(_w=ibis.literal(2.0).pow(-j._age / float(half_life_s)))
        j = j.mutate(_wsum=j._w.sum().over(conv))
    if "given" in models:
        j = j.mutate(_g=j.weight.fill_null(0.0))
        j = j.mutate(_gsum=j._g.sum().over(conv))
    if "shapley" in models or "markov" in models:
        j = _shapley_parts(j)
    if "markov" in models:
        if removal_effects is None:
            raise ValueError("markov credit needs the removal effects")
        re = ibis.memtable(
            pd.DataFrame(
                {
                    "_re_channel": removal_effects["channel"].astype(str).to_numpy(),
                    # NaN (no conversions) → 0: NaN compares above every number in some
                    # engines, and 0 everywhere gives the equal split.
                    "_re": np.nan_to_num(
                        removal_effects["removal_effect"].to_numpy(dtype=float), nan=0.0
                    ),
                }
            )
        )
        j = j.left_join(re, j.channel == re._re_channel).drop("_re_channel")
        j = j.mutate(_re=j._re.fill_null(0.0))
        j = j.mutate(_re_sum=(j._re / j._m.cast("float64")).sum().over(conv))
    pos, n, last = j.pos, j.n, j.pos == j.n - 1
    p_first, p_mid, p_last = position
    ends = p_first + p_last
    two_first, two_last = (p_first / ends, p_last / ends) if ends > 0 else (0.5, 0.5)
    for model in models:
        if model == "first_touch":
            value: ir.Value = (pos == 0).cast("float64")
        elif model == "last_touch":
            value = last.cast("float64")
        elif model == "last_non_direct":
            value = (pos == j._lnd.fill_null(n - 1)).cast("float64")
        elif model == "linear":
            value = 1.0 / n.cast("float64")
        elif model == "time_decay":
            value = j._w / j._wsum
        elif model == "position_based":
            value = ibis.cases(
                (n == 1, 1.0),
                (n == 2, ibis.ifelse(pos == 0, two_first, two_last)),
                (pos == 0, p_first),
                (last, p_last),
                else_=p_mid / (n - 2).cast("float64").nullif(0.0),
            )
        elif model == "shapley":
            value = 1.0 / (j._k * j._m).cast("float64")
        elif model == "markov":
            m = j._m.cast("float64")
            value = ibis.ifelse(
                j._re_sum > 0, j._re / m / j._re_sum.nullif(0), 1.0 / (j._k.cast("float64") * m)
            )
        elif model == "given":
            value = j._g / j._gsum.nullif(0.0) if normalise_weights else j._g  # type: ignore[assignment]
        else:
            check_model(model)
            raise AssertionError(model)
        cols[f"c_{model}"] = ibis.ifelse(j.touched, value.cast("float64"), 1.0)
    return j.mutate(**cols)


def touch_credit(
    ds: Dataset,
    model: str,
    *,
    lookback_s: int = 30 * DAY_S,
    half_life_s: int = 7 * DAY_S,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
    markov_order: int = 1,
    normalise_weights: bool = False,
    removal_effects: Mapping[str, float] | None = None,
) -> ir.Table:
    """One row per touch of every conversion with the credit ``model`` gives it.

    Columns: conversion_id (text), session_id (text; null for a conversion without
    touches), user_id, ts (touch time), conv_ts, channel (``(no touch)`` for a conversion
    without touches, ``(unknown)`` for a touch without a channel), campaign and market
    (the session's, null when sessions have no such column), credit (sums to 1 per
    conversion in every computed model) and revenue_credit (credit × the conversion's
    revenue). See the module docstring for each model.

    ``markov`` needs the chain's ``removal_effects`` (channel → RE): the statistics
    layer fits the chain, which this engine layer may not import, so they come from
    :func:`growthlens.analyses.attribution.removal_effects` (``markov_order`` is the order
    they were fitted with, recorded for the caller; it is not used here).

    Raises:
        ConfigError: an unknown model or bad option; ``given`` without a touchpoints
            table with a weight column; ``markov`` without ``removal_effects``.

    Example:
        >>> import pandas as pd
        >>> from growthlens import load
        >>> t = pd.Timestamp("2024-01-10")
        >>> sessions = pd.DataFrame({"user_id": [1, 1, 1], "session_id": ["a", "b", "c"],
        ...     "start_ts": [t - pd.Timedelta(days=d) for d in (3, 2, 1)],
        ...     "source": ["ads", "seo", "ads"]})
        >>> orders = pd.DataFrame({"user_id": [1], "order_id": ["o1"], "ts": [t],
        ...     "revenue": [90.0]})
        >>> ds = load(sessions=sessions, orders=orders, window=("2024-01-01", "2024-01-31"))
        >>> credit = touch_credit(ds, "position_based").to_pandas().sort_values("ts")
        >>> credit["credit"].round(2).tolist(), credit["revenue_credit"].round(2).tolist()
        ([0.4, 0.2, 0.4], [36.0, 18.0, 36.0])
    """
    check_model(model)
    position = check_position(position)
    _check_seconds("half_life_s", half_life_s)
    if not isinstance(normalise_weights, bool):
        raise ConfigError(f"normalise_weights must be True or False; got {normalise_weights!r}")
    if isinstance(markov_order, bool) or markov_order not in (1, 2, 3):
        raise ConfigError(f"markov_order must be 1, 2 or 3; got {markov_order!r}")
    j = journeys(ds, lookback_s)
    removal = None
    if model == "given":
        check_given(ds)
    if model == "markov":
        if removal_effects is None:
            raise ConfigError(
                "model 'markov' needs removal_effects (channel → removal effect); get them "
                "from growthlens.analyses.attribution.removal_effects(ds, lookback_s=..., "
                "order=...)"
            )
        removal = pd.DataFrame(
            {
                "channel": list(removal_effects),
                "removal_effect": [float(v) for v in removal_effects.values()],
            }
        )
    scored = credit_columns(
        j,
        (model,),
        half_life_s=half_life_s,
        position=position,
        normalise_weights=normalise_weights,
        direct=direct_channels(ds),
        removal_effects=removal,
    )
    credit = scored[f"c_{model}"]
    out = scored.mutate(credit=credit, revenue_credit=credit * scored.revenue)
    return out.select(*OUTPUT_COLUMNS)


def check_given(ds: Dataset) -> None:
    """A ConfigError unless a touchpoints table with a ``weight`` column is loaded."""
    if not ds.has("touchpoints") or "weight" not in ds.table("touchpoints").columns:
        raise ConfigError(
            "model 'given' needs a touchpoints table with a weight column (e.g. an IHC "
            "share); this dataset has "
            + ("touchpoints without weights" if ds.has("touchpoints") else "no touchpoints table")
        )


@dataclass(frozen=True)
class PathCounts:
    """Distinct channel paths (touch order) and how many journeys of each, per group.

    Attributes:
        paths: the distinct paths of converting and non-converting journeys.
        conversions: path (index into ``paths``), group, conversions, revenue: the
            conversions with at least one touch.
        nulls: path, group, nulls: the journeys of users who never converted.
        groups: the number of bootstrap groups (see :func:`conversion_groups`).
    """

    paths: list[tuple[str, ...]]
    conversions: pd.DataFrame
    nulls: pd.DataFrame
    groups: int


def null_journeys(ds: Dataset, lookback_s: int) -> ir.Table | None:
    """The non-converting journeys (users who never converted), or None without sessions."""
    end = data_end_s(ds)
    if not ds.has("sessions") or end is None:
        return None
    return ds.derived(NULL_JOURNEYS(lookback_s=lookback_s, end_s=end))


def conversion_groups(keyed: ir.Table, key: str, *, groups: int, seed: int) -> ir.Table:
    """``keyed`` (one row per ``key``) with ``group`` in 0..groups−1 for the bootstrap.

    The rows are put in a random order (the MD5 digest, as hex text, of the key as text
    and the seed; ties by key) and dealt out in turn: with no more rows than groups each
    row is its own group (the plain bootstrap); with more, each group is a random set of
    rows of equal size ± 1. MD5 rather than the engine's ``hash()``: every engine computes
    the same digest, so the same seed deals the same groups (and gives the same intervals)
    on DuckDB and on Spark, whose ``hash()`` functions differ.
    """
    h = (keyed[key].cast("string") + f"#{seed}").hexdigest("md5")
    ranked = keyed.mutate(_rank=ibis.row_number().over(order_by=[h, keyed[key]]))
    return ranked.mutate(group=ranked._rank % groups).drop("_rank")


def _codes(channels: Sequence[str]) -> tuple[ir.Table, ir.Table, int]:
    """Channel → code 1..K, digit → K+1 to its power, and digits per int64 chunk."""
    base = len(channels) + 1
    digits = max(1, math.floor(62 / math.log2(base)))
    while base**digits >= 2**62:
        digits -= 1
    codes = ibis.memtable(
        pd.DataFrame({"_ch": list(channels), "_code": range(1, len(channels) + 1)})
    )
    mults = ibis.memtable(
        pd.DataFrame({"_digit": range(digits), "_mult": [base**d for d in range(digits)]})
    )
    return codes, mults, digits


def _chunked(
    rows: ir.Table, key: str, codes: ir.Table, mults: ir.Table, digits: int, chunks: int
) -> ir.Table:
    """One row per ``key``: its path as ``chunks`` int64 columns of base-(K+1) digits."""
    t = rows.inner_join(codes, rows.channel == codes._ch)
    t = t.mutate(_chunk=t.pos // digits, _digit=t.pos % digits)
    t = t.inner_join(mults, "_digit")
    t = t.mutate(_v=t._code.cast("int64") * t._mult.cast("int64"))
    return t.group_by(key).aggregate(
        **{f"_c{i}": t._v.sum(where=t._chunk == i).fill_null(0) for i in range(chunks)}
    )


def _decode(
    frame: pd.DataFrame, chunks: int, digits: int, channels: Sequence[str]
) -> list[tuple[str, ...]]:
    base = len(channels) + 1
    out: list[tuple[str, ...]] = []
    values = frame[[f"_c{i}" for i in range(chunks)]].to_numpy(dtype="int64")
    for row in values:
        path: list[str] = []
        for v in row:
            v = int(v)
            for _ in range(digits):
                if v == 0:
                    break
                path.append(channels[v % base - 1])
                v //= base
        out.append(tuple(path))
    return out


def path_counts(
    ds: Dataset,
    *,
    lookback_s: int = 30 * DAY_S,
    groups: int = 1,
    null_groups: int | None = None,
    seed: int = 0,
) -> PathCounts:
    """Distinct paths of the journeys with conversions (and nulls) per bootstrap group.

    Conversions without touches have no path and are left out (their credit is
    ``(no touch)`` in every model). Paths come out of the engine as integers (each touch a
    base-(K+1) digit of its channel's code), so only distinct paths are fetched.
    """
    j = journeys(ds, lookback_s)
    touched = j.filter(j.touched)
    nulls = null_journeys(ds, lookback_s)
    # One small query: every channel with the longest path it is part of.
    lengths = touched.select("channel", n=touched.n.cast("int64"))
    if nulls is not None:
        lengths = lengths.union(nulls.select("channel", n=(nulls.pos + 1).cast("int64")))
    names = fetch(lengths.group_by("channel").aggregate(n=lengths.n.max()))
    channels = sorted(str(c) for c in names["channel"])
    n_max = int(names["n"].max()) if len(names) else 0
    empty_conv = pd.DataFrame(
        {"path": pd.Series(dtype="int64"), "group": pd.Series(dtype="int64"),
         "conversions": pd.Series(dtype="float64"), "revenue": pd.Series(dtype="float64")}
    )  # fmt: skip
    if not channels or n_max == 0:
        empty_null = pd.DataFrame({"path": [], "group": [], "nulls": []}, dtype="float64")
        return PathCounts([], empty_conv, empty_null, groups)
    codes, mults, digits = _codes(channels)
    chunks = -(-n_max // digits)
    cols = [f"_c{i}" for i in range(chunks)]
    # Grouped over every conversion, touched or not, as credit_by_group.
    heads = conversion_groups(
        j.filter(j.pos == 0).select("conversion_id", "revenue"),
        "conversion_id",
        groups=groups,
        seed=seed,
    )
    conv = _chunked(touched, "conversion_id", codes, mults, digits, chunks)
    conv = conv.inner_join(heads, "conversion_id")
    conv_frame = fetch(
        conv.group_by([*cols, "group"]).aggregate(
            conversions=conv.count(), revenue=conv.revenue.sum()
        )
    )
    frames = [conv_frame[cols]]
    null_frame = pd.DataFrame(columns=[*cols, "group", "nulls"])
    if nulls is not None:
        nheads = conversion_groups(
            nulls.filter(nulls.pos == 0).select("journey_id"),
            "journey_id",
            groups=groups if null_groups is None else null_groups,
            seed=seed + 1,
        )
        nul = _chunked(nulls, "journey_id", codes, mults, digits, chunks)
        nul = nul.inner_join(nheads, "journey_id")
        null_frame = fetch(nul.group_by([*cols, "group"]).aggregate(nulls=nul.count()))
        frames.append(null_frame[cols])
    distinct = pd.concat(frames, ignore_index=True).drop_duplicates().reset_index(drop=True)
    paths = _decode(distinct, chunks, digits, channels)
    # Sorted paths: the path index does not depend on how the engine ordered rows.
    order = sorted(range(len(paths)), key=lambda i: paths[i])
    distinct = distinct.iloc[order].reset_index(drop=True)
    paths = [paths[i] for i in order]
    distinct["path"] = np.arange(len(distinct), dtype="int64")
    conv_out = conv_frame.merge(distinct, on=cols)[["path", "group", "conversions", "revenue"]]
    null_out = null_frame.merge(distinct, on=cols)[["path", "group", "nulls"]]
    return PathCounts(
        paths,
        conv_out.astype(
            {"path": "int64", "group": "int64", "conversions": "float64", "revenue": "float64"}
        ),
        null_out.astype({"path": "int64", "group": "int64", "nulls": "float64"}),
        groups,
    )


@dataclass(frozen=True)
class JourneyCounts:
    """What the journeys hold, counted in the engine (the analysis words it).

    Attributes:
        conversions, revenue: every conversion and its revenue.
        touched: conversions with at least one touch; touches: their touches.
        lengths: touches per journey → journeys (``touches``, ``journeys``), touched ones.
        channel_counts: distinct channels per journey → journeys (``channels``, ``journeys``).
        after_touches, after_conversions: touches after their conversion, and the
            conversions that have any (given touchpoints only; built journeys have none).
        weighted: the touchpoints carry weights.
        weight_off: journeys whose weights do not sum to 1 (±1e-6, null weights as 0).
        weight_gain: Σ weights − journeys over those: conversions gained (+) or lost (−).
        null_weights: touches with a null weight.
        unmatched_touchpoints, unmatched_ids: touchpoint rows (and distinct conversion ids)
            naming no conversion of the orders table.
        unknown_channel: touches without a channel (``(unknown)``).
        null_journeys, null_touches: non-converting journeys and their sessions.
    """

    conversions: int
    revenue: float
    touched: int
    touches: int
    lengths: pd.DataFrame
    channel_counts: pd.DataFrame
    after_touches: int
    after_conversions: int
    weighted: bool
    weight_off: int
    weight_gain: float
    null_weights: int
    unmatched_touchpoints: int
    unmatched_ids: int
    unknown_channel: int
    null_journeys: int
    null_touches: int


WEIGHT_TOLERANCE = 1e-6
"""Given weights of a journey "sum to 1" when within this of 1."""


def journey_counts(ds: Dataset, lookback_s: int = 30 * DAY_S) -> JourneyCounts:
    """Counts of the journeys (see :class:`JourneyCounts`), all aggregated in the engine."""
    j = journeys(ds, lookback_s)
    head = j.pos == 0
    totals = j.aggregate(
        conversions=head.cast("int64").sum(),
        revenue=j.revenue.sum(where=head),
        touched=(j.touched & head).cast("int64").sum(),
        touches=j.touched.cast("int64").sum(),
        after_touches=j.after_conversion.cast("int64").sum(),
        after_conversions=j.conversion_id.nunique(where=j.after_conversion),
        null_weights=j.weight.isnull().cast("int64").sum(where=j.touched),
        unknown_channel=(j.channel == UNKNOWN).cast("int64").sum(where=j.touched),
    )
    row = fetch(totals).iloc[0]
    heads = j.filter(j.touched & head)
    lengths = fetch(heads.group_by(touches="n").aggregate(journeys=heads.count()))
    channel_counts = fetch(heads.group_by(channels="channels").aggregate(journeys=heads.count()))
    weighted = ds.has("touchpoints") and "weight" in ds.table("touchpoints").columns
    weight_off, weight_gain = 0, 0.0
    if weighted:
        touched = j.filter(j.touched)
        sums = touched.group_by("conversion_id").aggregate(w=touched.weight.fill_null(0.0).sum())
        off = (sums.w - 1.0).abs() > WEIGHT_TOLERANCE
        counted = fetch(
            sums.aggregate(off=off.cast("int64").sum(), gain=(sums.w - 1.0).sum(where=off))
        ).iloc[0]
        weight_off = 0 if pd.isna(counted["off"]) else int(counted["off"])
        weight_gain = float(counted["gain"]) if weight_off else 0.0
    unmatched = unmatched_ids = 0
    if ds.has("touchpoints"):
        tp = ds.table("touchpoints")
        ids = tp.select(conversion_id=tp.conversion_id.cast("string"))
        known = ds.derived(CONVERSIONS()).select("conversion_id")
        orphans = ids.anti_join(known, "conversion_id")
        counted = fetch(
            orphans.aggregate(rows=orphans.count(), ids=orphans.conversion_id.nunique())
        ).iloc[0]
        unmatched, unmatched_ids = int(counted["rows"]), int(counted["ids"])
    n_null = null_touches = 0
    nulls = null_journeys(ds, lookback_s)
    if nulls is not None:
        counted = fetch(
            nulls.aggregate(journeys=nulls.journey_id.nunique(), touches=nulls.count())
        ).iloc[0]
        n_null, null_touches = int(counted["journeys"]), int(counted["touches"])

    def whole(name: str) -> int:
        value = row[name]
        return 0 if pd.isna(value) else int(value)

    return JourneyCounts(
        conversions=whole("conversions"),
        revenue=0.0 if pd.isna(row["revenue"]) else float(row["revenue"]),
        touched=whole("touched"),
        touches=whole("touches"),
        lengths=lengths.sort_values("touches").reset_index(drop=True),
        channel_counts=channel_counts.sort_values("channels").reset_index(drop=True),
        after_touches=whole("after_touches"),
        after_conversions=whole("after_conversions"),
        weighted=weighted,
        weight_off=weight_off,
        weight_gain=weight_gain,
        null_weights=whole("null_weights") if weighted else 0,
        unmatched_touchpoints=unmatched,
        unmatched_ids=unmatched_ids,
        unknown_channel=whole("unknown_channel"),
        null_journeys=n_null,
        null_touches=null_touches,
    )


def credit_by_group(
    ds: Dataset,
    models: Sequence[str],
    *,
    lookback_s: int = 30 * DAY_S,
    half_life_s: int = 7 * DAY_S,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
    normalise_weights: bool = False,
    groups: int = 1,
    seed: int = 0,
    removal_effects: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Credit per model, channel and bootstrap group, in one pass over the journeys.

    Columns: model, channel, group, conversions (Σ credit), revenue (Σ revenue credit).
    Groups as :func:`conversion_groups` over every conversion (touched or not), so the
    same ``groups`` and ``seed`` put a conversion in the same group as in
    :func:`path_counts`.
    """
    models = [check_model(m) for m in models]
    if not models:
        return pd.DataFrame(columns=["model", "channel", "group", "conversions", "revenue"])
    j = journeys(ds, lookback_s)
    scored = credit_columns(
        j,
        models,
        half_life_s=half_life_s,
        position=position,
        normalise_weights=normalise_weights,
        direct=direct_channels(ds),
        removal_effects=removal_effects,
    )
    heads = conversion_groups(
        j.filter(j.pos == 0).select("conversion_id"), "conversion_id", groups=groups, seed=seed
    )
    scored = scored.inner_join(heads, "conversion_id")
    sums: dict[str, ir.Value] = {}
    for i, m in enumerate(models):
        c = scored[f"c_{m}"]
        sums[f"c{i}"] = c.sum()
        sums[f"r{i}"] = (c * scored.revenue).sum()
    wide = fetch(scored.group_by("channel", "group").aggregate(**sums))
    parts = [
        pd.DataFrame(
            {
                "model": m,
                "channel": wide["channel"].astype(str),
                "group": wide["group"].astype("int64"),
                "conversions": wide[f"c{i}"].astype(float),
                "revenue": wide[f"r{i}"].astype(float),
            }
        )
        for i, m in enumerate(models)
    ]
    return pd.concat(parts, ignore_index=True)


def conversion_count(ds: Dataset, lookback_s: int = 30 * DAY_S) -> int:
    """The number of conversions (one row per conversion at pos 0 of the journeys)."""
    j = journeys(ds, lookback_s)
    return int(j.filter(j.pos == 0).count().execute())


def null_journey_count(ds: Dataset, lookback_s: int = 30 * DAY_S) -> int:
    """The number of non-converting journeys (0 without sessions)."""
    nulls = null_journeys(ds, lookback_s)
    if nulls is None:
        return 0
    return int(nulls.filter(nulls.pos == 0).count().execute())


__all__ = [
    "DIRECT_CHANNELS",
    "MODELS",
    "NO_TOUCH",
    "RULE_MODELS",
    "WEIGHT_TOLERANCE",
    "JourneyCounts",
    "PathCounts",
    "check_given",
    "check_model",
    "check_position",
    "conversion_count",
    "conversion_groups",
    "credit_by_group",
    "credit_columns",
    "data_end_s",
    "direct_channels",
    "journey_counts",
    "journeys",
    "null_journey_count",
    "null_journeys",
    "path_counts",
    "touch_credit",
]
