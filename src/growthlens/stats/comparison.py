"""Treatment against control: the A/B comparison result, for proportions, means and ratios.

Every function takes the two arms' data (treatment first), returns a :class:`Comparison`
and never raises on degenerate data: it returns a ``status`` and NaN numbers instead.

- :func:`compare_proportions` (conversion): per arm the rate k/n with its Wilson interval;
  the difference with Newcombe's hybrid score interval; the pooled two-proportion z test
  (identical to Pearson's chi-square on the 2×2 table without continuity correction); the
  relative difference p_t/p_c − 1 with an interval by the delta method on log(p_t/p_c),
  whose variance is (1 − p_t)/(n_t·p_t) + (1 − p_c)/(n_c·p_c).
- :func:`compare_means` (revenue per participant, any per-unit value): per arm the mean
  with its Student t interval; Welch's t test and interval (unequal variances,
  Welch–Satterthwaite degrees of freedom); the relative difference m_t/m_c − 1 with an
  interval by the delta method: when both means are positive, normal on log(m_t/m_c)
  with variance v_t/m_t² + v_c/m_c² (v = s²/n), else normal on m_t/m_c with variance
  v_t/m_c² + m_t²·v_c/m_c⁴. Both rest on the central limit theorem: skewed revenue
  needs enough units (docs/experiments.md gives the sizes measured).
- :func:`compare_ratio` (average check = Σ revenue ÷ Σ orders over the arm's
  participants): per arm R = Σnum/Σden; the participants are the independent units, so
  the variance is the delta method's (s²_num − 2R·s_num,den + R²·s²_den) / (n·mean_den²);
  the difference has a normal interval and z test; the relative difference R_t/R_c − 1
  has Fieller's interval (exact for the ratio of two independent normal estimates, and
  unbounded — NaN bounds with a reason — when R_c is not clearly away from 0).

Statuses: ``"ok"``; ``"empty_arm"`` (an arm without units); ``"not_enough_data"`` (an arm
with fewer than two units, or, for a ratio, no denominator); ``"zero_variance"`` (no
spread in either arm: the point difference is given, the test and the intervals are NaN).
``reason`` explains any status other than ``"ok"`` and any NaN figure under ``"ok"`` (for
example a relative difference against a control of 0); otherwise it is empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from growthlens.stats.means import mean_interval, welch_from_moments
from growthlens.stats.proportions import difference, wilson
from growthlens.stats.testing import check_confidence

Status = str
"""``"ok"`` | ``"empty_arm"`` | ``"not_enough_data"`` | ``"zero_variance"``."""

NAN = math.nan


@dataclass(frozen=True)
class Arm:
    """One variant's estimate of the metric.

    Attributes:
        n: units (participants) in the arm.
        value: the mean, proportion or ratio of sums.
        low, high: its interval (Student t for means, Wilson for proportions, delta method
            for ratios); NaN when undefined.
    """

    n: int
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Treatment against control.

    Attributes:
        treatment, control: each arm's estimate.
        difference, low, high: treatment − control and its interval.
        relative, rel_low, rel_high: (treatment − control) / control and its interval.
        p_value: two-sided p-value of no difference.
        method: the test and interval methods in words.
        status: ``"ok"``, ``"empty_arm"``, ``"not_enough_data"`` or ``"zero_variance"``.
        reason: why, when the status is not ``"ok"`` or a figure is NaN; else ``""``.
    """

    treatment: Arm
    control: Arm
    difference: float
    low: float
    high: float
    relative: float
    rel_low: float
    rel_high: float
    p_value: float
    method: str
    status: Status
    reason: str

    @property
    def ok(self) -> bool:
        """Whether the comparison was computed (status ``"ok"``)."""
        return self.status == "ok"


def values(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Per-unit values as a flat float array; non-finite values are a ValueError."""
    a = np.asarray(x, dtype=float).reshape(-1)
    bad = int(np.count_nonzero(~np.isfinite(a)))
    if bad:
        raise ValueError(f"{name} must hold finite numbers; found {bad} NaN or infinite")
    return a


def z_quantile(confidence: float) -> float:
    """The standard normal quantile of a two-sided ``confidence`` interval."""
    return float(stats.norm.ppf(0.5 + check_confidence(confidence) / 2))


def _empty_arm(n: int) -> Arm:
    return Arm(n, NAN, NAN, NAN)


def _degenerate(
    treatment: Arm, control: Arm, method: str, status: Status, reason: str, diff: float = NAN
) -> Comparison:
    relative = NAN
    if not math.isnan(diff) and control.value != 0 and not math.isnan(control.value):
        relative = diff / control.value
    return Comparison(
        treatment, control, diff, NAN, NAN, relative, NAN, NAN, NAN, method, status, reason
    )


def _arm_status(n_t: int, n_c: int) -> tuple[Status, str] | None:
    if n_t == 0 or n_c == 0:
        which = "treatment" if n_t == 0 else "control"
        if n_t == 0 and n_c == 0:
            which = "both arms"
        return "empty_arm", f"no units in {which}"
    if n_t < 2 or n_c < 2:
        return "not_enough_data", f"fewer than 2 units in an arm (treatment {n_t}, control {n_c})"
    return None


def relative_delta(
    m_t: float, v_t: float, m_c: float, v_c: float, z: float
) -> tuple[float, float, float, str]:
    """m_t/m_c − 1 with its delta-method interval; ``v`` are the variances of the means.

    Both means positive: normal on log(m_t/m_c), variance v_t/m_t² + v_c/m_c², bounds
    exponentiated; otherwise normal on m_t/m_c, variance v_t/m_c² + m_t²·v_c/m_c⁴.

    Returns (relative, low, high, reason); reason is non-empty when the figure is NaN.
    """
    if m_c == 0:
        return NAN, NAN, NAN, "the control's value is 0: the relative difference is undefined"
    ratio = m_t / m_c
    # Written as ratios of standard errors to means so that tiny means cannot underflow.
    sd_t, sd_c = math.sqrt(v_t), math.sqrt(v_c)
    if m_t > 0 and m_c > 0:
        # On the log scale the ratio of skewed means is closer to normal (better coverage
        # at a few hundred buyers per arm; docs/experiments.md).
        se = math.hypot(sd_t / m_t, sd_c / m_c)
        with np.errstate(over="ignore"):
            low, high = ratio * np.exp([-z * se, z * se]) - 1
        return ratio - 1, float(low), float(high), ""
    se = math.hypot(sd_t / m_c, ratio * sd_c / m_c)
    return ratio - 1, ratio - 1 - z * se, ratio - 1 + z * se, ""


def compare_proportions(
    k_t: int, n_t: int, k_c: int, n_c: int, *, confidence: float = 0.95
) -> Comparison:
    """Conversion of treatment (``k_t`` of ``n_t``) against control (``k_c`` of ``n_c``).

    Methods in the module docstring. ``zero_variance``: no success or no failure in both
    arms together (the z test is undefined; Newcombe's score interval is still given).

    Example:
        >>> c = compare_proportions(56, 70, 48, 80)
        >>> round(c.difference, 2), round(c.low, 4), round(c.high, 4), round(c.p_value, 4)
        (0.2, 0.0524, 0.3339, 0.008)
    """
    z = z_quantile(confidence)
    for name, k, n in (("treatment", k_t, n_t), ("control", k_c, n_c)):
        if n < 0 or k < 0 or k > n:
            raise ValueError(f"{name} needs 0 ≤ successes ≤ trials; got {k} of {n}")
    method = (
        "pooled two-proportion z test (= chi-square 2×2, no continuity correction); "
        "Wilson intervals per arm; Newcombe hybrid score interval of the difference; "
        "relative interval by the delta method on log(p_t/p_c)"
    )
    arms = []
    for k, n in ((k_t, n_t), (k_c, n_c)):
        if n == 0:
            arms.append(_empty_arm(0))
            continue
        w_low, w_high = wilson([k], [n], confidence=confidence)
        arms.append(Arm(int(n), k / n, float(w_low[0]), float(w_high[0])))
    treatment, control = arms
    bad = _arm_status(n_t, n_c)
    if bad is not None:
        diff = treatment.value - control.value if n_t and n_c else NAN
        return _degenerate(treatment, control, method, *bad, diff=diff)
    d = difference([k_t], [n_t], [k_c], [n_c], confidence=confidence)
    diff, low, high = float(d.difference[0]), float(d.low[0]), float(d.high[0])
    p_t, p_c = treatment.value, control.value
    reasons = []
    status, p_value = "ok", float(d.p_value[0])
    if k_t + k_c in (0, n_t + n_c):
        status, p_value = "zero_variance", NAN
        reasons.append("no success or no failure in either arm: the z test is undefined")
    if p_c == 0:
        rel, rel_low, rel_high = NAN, NAN, NAN
        reasons.append("the control's rate is 0: the relative difference is undefined")
    elif p_t == 0:
        rel, rel_low, rel_high = -1.0, NAN, NAN
        reasons.append("no success in treatment: the relative interval (log scale) is undefined")
    else:
        rel = p_t / p_c - 1
        se = math.sqrt((1 - p_t) / (n_t * p_t) + (1 - p_c) / (n_c * p_c))
        log_ratio = math.log(p_t / p_c)
        rel_low, rel_high = math.exp(log_ratio - z * se) - 1, math.exp(log_ratio + z * se) - 1
    return Comparison(
        treatment, control, diff, low, high, rel, rel_low, rel_high, p_value, method, status,
        "; ".join(reasons),
    )  # fmt: skip


def sample_variance(x: NDArray[np.float64]) -> float:
    """Two-pass sample variance (n − 1); NaN below two values.

    Exactly 0 when every value is equal (rounding in the mean would otherwise leave ~1e-34).
    """
    if len(x) < 2:
        return NAN
    if x.min() == x.max():
        return 0.0
    return float(x.var(ddof=1))


def _moments(x: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and sample variance (NaN variance below two values)."""
    return (float(x.mean()) if len(x) else NAN), sample_variance(x)


def _mean_arm(x: NDArray[np.float64], confidence: float) -> Arm:
    n = len(x)
    if n == 0:
        return _empty_arm(0)
    mean, var = _moments(x)
    if n < 2:
        return Arm(n, mean, NAN, NAN)
    # mean_interval from sums; pass Σx² rebuilt from the two-pass variance (exact).
    low, high = mean_interval([mean * n], [var * (n - 1) + n * mean**2], [n], confidence=confidence)
    return Arm(n, mean, float(low[0]), float(high[0]))


def compare_means(x_t: ArrayLike, x_c: ArrayLike, *, confidence: float = 0.95) -> Comparison:
    """Mean of the per-unit values ``x_t`` (treatment) against ``x_c`` (control).

    Welch's t test and interval of the difference; Student t interval per arm; relative
    interval by the delta method (module docstring). Units with no activity must be in the
    arrays as 0 (revenue per participant counts everyone assigned).

    Example:
        >>> c = compare_means([3, 3, 2, 1, 1], [8, 6, 6, 5, 5])
        >>> round(c.difference, 2), round(c.p_value, 4), round(c.relative, 4), c.status
        (-4.0, 0.0006, -0.6667, 'ok')
    """
    z = z_quantile(confidence)
    t, c = values(x_t, "x_t"), values(x_c, "x_c")
    method = (
        "Welch t test and interval; Student t interval per arm; "
        "relative interval by the delta method (log scale when both means are positive)"
    )
    treatment, control = _mean_arm(t, confidence), _mean_arm(c, confidence)
    bad = _arm_status(len(t), len(c))
    if bad is not None:
        diff = treatment.value - control.value if len(t) and len(c) else NAN
        return _degenerate(treatment, control, method, *bad, diff=diff)
    (m_t, s_t), (m_c, s_c) = _moments(t), _moments(c)
    diff = m_t - m_c
    if s_t == 0 and s_c == 0:
        return _degenerate(
            treatment, control, method, "zero_variance",
            "every unit has the same value within each arm: no test or interval", diff=diff,
        )  # fmt: skip
    test = welch_from_moments((m_t, s_t, len(t)), (m_c, s_c, len(c)))
    v_t, v_c = s_t / len(t), s_c / len(c)
    half = float(stats.t.ppf(0.5 + confidence / 2, test.dof)) * math.sqrt(v_t + v_c)
    rel, rel_low, rel_high, reason = relative_delta(m_t, v_t, m_c, v_c, z)
    return Comparison(
        treatment, control, diff, diff - half, diff + half, rel, rel_low, rel_high,
        test.p_value, method, "ok", reason,
    )  # fmt: skip


def ratio_moments(num: NDArray[np.float64], den: NDArray[np.float64]) -> tuple[float, float, float]:
    """Ratio of sums Σnum/Σden, the delta-method variance of it, and the mean denominator.

    Var(R) ≈ (s²_num − 2R·s_num,den + R²·s²_den) / (n·mean_den²), sample (co)variances
    with n − 1; equivalently the sample variance of the linearised values
    (num − R·den) / mean_den over n.
    """
    n = len(num)
    mean_den = float(den.mean())
    ratio = float(num.sum() / den.sum())
    residual = num - ratio * den  # mean 0 by construction of R
    # Residuals at rounding level (num = R·den for every unit) are no spread at all.
    if np.abs(residual).max() <= 1e-12 * max(float(np.abs(num).max()), 1e-300):
        return ratio, 0.0, mean_den
    var = float(residual.var(ddof=1)) / (n * mean_den**2)
    return ratio, var, mean_den


def fieller(a: float, v_a: float, b: float, v_b: float, z: float) -> tuple[float, float] | None:
    """Fieller's interval of a/b for independent normal estimates a, b (variances v_a, v_b).

    The set of θ with (a − θb)² ≤ z²(v_a + θ²v_b); None when it is unbounded
    (b² ≤ z²·v_b: b is not clearly away from 0).
    """
    q = b * b - z * z * v_b
    if q <= 0:
        return None
    root = z * math.sqrt(a * a * v_b + b * b * v_a - z * z * v_a * v_b)
    return (a * b - root) / q, (a * b + root) / q


def compare_ratio(
    num_t: ArrayLike,
    den_t: ArrayLike,
    num_c: ArrayLike,
    den_c: ArrayLike,
    *,
    confidence: float = 0.95,
) -> Comparison:
    """Ratio of sums Σnum/Σden of treatment against control (e.g. revenue ÷ orders).

    Per-unit arrays (one value per participant; participants with a zero denominator
    count in n and add nothing to either sum). Delta-method variances, normal interval and
    z test of the difference, Fieller's interval of the relative difference.

    Example:
        >>> c = compare_ratio([30, 0, 50, 20], [1, 0, 2, 1], [10, 40, 0, 25], [1, 2, 0, 1])
        >>> round(c.treatment.value, 2), round(c.control.value, 2), round(c.relative, 4)
        (25.0, 18.75, 0.3333)
    """
    z = z_quantile(confidence)
    arrays = [values(v, name) for v, name in
              ((num_t, "num_t"), (den_t, "den_t"), (num_c, "num_c"), (den_c, "den_c"))]  # fmt: skip
    nt, dt, nc, dc = arrays
    if len(nt) != len(dt) or len(nc) != len(dc):
        raise ValueError(
            "numerator and denominator need one value per unit each; got "
            f"{len(nt)} and {len(dt)} (treatment), {len(nc)} and {len(dc)} (control)"
        )
    method = (
        "ratio of sums per arm, variance by the delta method; normal interval and z test of "
        "the difference; Fieller interval of the relative difference"
    )
    arms: list[Arm] = []
    moments: list[tuple[float, float]] = []
    for num, den in ((nt, dt), (nc, dc)):
        n = len(num)
        if n < 2 or den.sum() == 0:
            value = float(num.sum() / den.sum()) if n and den.sum() != 0 else NAN
            arms.append(Arm(n, value, NAN, NAN))
            moments.append((value, NAN))
            continue
        ratio, var, _ = ratio_moments(num, den)
        half = z * math.sqrt(var)
        arms.append(Arm(n, ratio, ratio - half, ratio + half))
        moments.append((ratio, var))
    treatment, control = arms
    bad = _arm_status(len(nt), len(nc))
    if bad is None and (dt.sum() == 0 or dc.sum() == 0):
        bad = "not_enough_data", "an arm's denominator sums to 0 (e.g. no orders): no ratio"
    if bad is not None:
        return _degenerate(treatment, control, method, *bad, diff=treatment.value - control.value)
    (r_t, v_t), (r_c, v_c) = moments
    diff = r_t - r_c
    if v_t == 0 and v_c == 0:
        return _degenerate(
            treatment, control, method, "zero_variance",
            "every unit's numerator is the ratio times its denominator in both arms: "
            "no test or interval", diff=diff,
        )  # fmt: skip
    se = math.sqrt(v_t + v_c)
    p_value = float(2 * stats.norm.sf(abs(diff) / se))
    reason = ""
    if r_c == 0:
        rel, rel_low, rel_high = NAN, NAN, NAN
        reason = "the control's ratio is 0: the relative difference is undefined"
    else:
        rel = r_t / r_c - 1
        bounds = fieller(r_t, v_t, r_c, v_c, z)
        if bounds is None:
            rel_low, rel_high = NAN, NAN
            reason = (
                "Fieller's interval of the relative difference is unbounded: the control's "
                "ratio is not clearly away from 0"
            )
        else:
            rel_low, rel_high = bounds[0] - 1, bounds[1] - 1
    return Comparison(
        treatment, control, diff, diff - z * se, diff + z * se, rel, rel_low, rel_high,
        p_value, method, "ok", reason,
    )  # fmt: skip


__all__ = [
    "Arm",
    "Comparison",
    "Status",
    "compare_means",
    "compare_proportions",
    "compare_ratio",
    "fieller",
    "ratio_moments",
    "relative_delta",
    "sample_variance",
    "values",
    "z_quantile",
]
