"""The public surface is pinned: adding or removing a name is a deliberate change here."""

from __future__ import annotations

import inspect

import pytest

import growthlens as gl

EXPECTED = {
    "unit_economics",
    "sales_trend",
    "conversion",
    "kpis",
    "apply_imputation",
    "impute",
    "propensity",
    "clusters",
    "clv",
    "rfm",
    "Config",
    "ConfigError",
    "DataError",
    "Dataset",
    "Entry",
    "FigureSpec",
    "Finding",
    "GrowthlensError",
    "MissingExtraError",
    "MissingTableError",
    "Result",
    "Settings",
    "SparkOptions",
    "__version__",
    "ab_test",
    "activity",
    "aov",
    "attribution",
    "cac",
    "campaign_effect",
    "channels",
    "consistency",
    "conversion_lag",
    "costs",
    "demo",
    "event_retention",
    "funnel_drivers",
    "load",
    "ltv",
    "orders_per_buyer",
    "overview",
    "paths",
    "quality",
    "recommend_budget",
    "reconcile",
    "report",
    "retention",
    "revenue_by_first_visit",
    "funnel",
    "romi",
    "step_matrix",
    "tracking",
}


def test_all_is_pinned_and_sorted() -> None:
    assert set(gl.__all__) == EXPECTED
    assert list(gl.__all__) == sorted(gl.__all__)
    for name in gl.__all__:
        assert hasattr(gl, name), name


# Each public function's signature, as written: keyword-only options, their defaults.
SIGNATURES = {
    "unit_economics": "(ds: 'Dataset', *, horizon: 'int | None' = None, period: 'Period | None' = None) -> 'Result'",
    "sales_trend": "(ds: 'Dataset', *, period: 'Period | None' = None) -> 'Result'",
    "conversion": "(ds: 'Dataset', *, period: 'Period | None' = None, by: 'Sequence[str]' = ('source', 'device')) -> 'Result'",
    "kpis": "(ds: 'Dataset', *, period: 'Period | None' = None) -> 'Result'",
    "apply_imputation": "(ds: 'Dataset', result: 'Result') -> 'Dataset'",
    "impute": "(ds: 'Dataset', *, column: 'str' = 'gender', model: 'str' = 'gbm', folds: 'int' = 5, seed: 'int' = 0, min_accuracy: 'float | None' = None) -> 'Result'",
    "propensity": "(ds: 'Dataset', *, target: 'str' = 'any', window: 'Sequence[DayLike]', history: 'Sequence[DayLike] | None' = None, treatment: 'str | None' = None, allow: 'Sequence[str]' = (), model: 'str' = 'gbm', folds: 'int' = 5, seed: 'int' = 0, value: 'float | None' = None, cost: 'float | None' = None) -> 'Result'",
    "clusters": "(ds: 'Dataset', *, k: 'int | None' = None, seed: 'int' = 0, features: 'Sequence[str] | Mapping[str, str] | None' = None, history: 'Sequence[DayLike] | None' = None, sample: 'int' = 20000) -> 'Result'",
    "clv": "(ds: 'Dataset', *, horizon: 'int | str' = '90d', margin: 'float | None' = None, holdout: 'int | str | None' = None, by: 'str | Sequence[str] | None' = None, discount: 'float' = 0.0) -> 'Result'",
    "rfm": "(ds: 'Dataset', *, method: 'Method' = 'quantile', bins: 'int' = 5, at: 'DayLike | None' = None, window: 'Sequence[DayLike] | None' = None, compare: 'bool' = True, cuts: 'Mapping[str, Sequence[float]] | None' = None, segments: 'Mapping[tuple[int, int], str] | None' = None) -> 'Result'",
    "event_retention": "(ds: 'Dataset', *, start: 'StepInput', back: 'StepInput', period: 'Period' = 'week') -> 'Result'",
    "attribution": "(ds: 'Dataset', *, models: 'Sequence[str] | None' = None, lookback: 'str | int | timedelta' = '30d', half_life: 'str | int | timedelta' = '7d', position: 'tuple[float, float, float]' = (0.4, 0.2, 0.4), markov_order: 'int' = 1, bootstrap: 'int' = 200, confidence: 'float' = 0.95, seed: 'int' = 0, normalise_weights: 'bool' = False) -> 'Result'",
    "channels": "(ds: 'Dataset', *, model: 'str' = 'linear', by: 'str' = 'channel', period: 'Period | None' = None, lookback: 'str | int | timedelta' = '30d', revenue: 'str' = 'orders') -> 'Result'",
    "consistency": "(ds: 'Dataset') -> 'Result'",
    "reconcile": "(ds: 'Dataset', *, key: 'str | None' = 'order_id', tolerance: 'float' = 0.01, window: 'tuple[Any, Any] | None' = None, match_without_key: 'Mapping[str, Any] | None' = None, columns: 'Sequence[str] | None' = None) -> 'Result'",
    "funnel_drivers": "(ds: 'Dataset', steps: 'Sequence[StepInput]', *, at: 'int | str | None' = None, window: 'str | int | timedelta' = '7d', order: 'Order' = 'ordered', unit: 'Unit' = 'user', exclude: 'Sequence[StepInput]' = (), confidence: 'float' = 0.95, min_units: 'int' = 10, top: 'int' = 10, correction: 'Correction' = 'holm') -> 'Result'",
    "paths": "(ds: 'Dataset', *, around: 'StepInput', direction: 'Direction' = 'next', depth: 'int' = 3, top: 'int' = 10, unit: 'Unit' = 'user', collapse: 'bool' = True) -> 'Result'",
    "step_matrix": "(ds: 'Dataset', *, steps: 'int' = 10, top: 'int' = 12, start: 'StepInput | None' = None, unit: 'Unit' = 'user', collapse: 'bool' = True) -> 'Result'",
    "tracking": "(ds: 'Dataset', *, steps: 'Sequence[StepInput] | None' = None, weeks: 'int' = 6, threshold: 'float' = 5.5, tolerance: 'float' = 0.0) -> 'Result'",
    "activity": "(ds: 'Dataset', *, by: 'str | None' = None, complete_periods: 'bool | None' = None) -> 'Result'",
    "aov": "(ds: 'Dataset', *, period: 'Period | None' = None) -> 'Result'",
    "cac": "(ds: 'Dataset', *, period: 'Period | None' = None, by: 'str | None' = 'source', cohort_by: 'CohortBy' = 'first_order') -> 'Result'",
    "conversion_lag": "(ds: 'Dataset', *, by: 'str | None' = None, period: 'Period | None' = None) -> 'Result'",
    "costs": "(ds: 'Dataset', *, period: 'Period | None' = None, by: 'str' = 'source') -> 'Result'",
    "demo": "(*, users: 'int' = 30000, seed: 'int' = 0, months: 'int' = 12, backend: 'BackendLike' = None, case: 'Case' = 'main') -> 'Dataset'",
    "ab_test": "(ds: 'Dataset', *, metric: 'str | Sequence[str] | None' = None, window: 'Sequence[DayLike] | None' = None, pre_window: 'Sequence[DayLike] | None' = None, covariate: 'str | None' = None, experiment: 'str | None' = None, control: 'str' = 'control', confidence: 'float' = 0.95, correction: \"Literal['holm', 'bh']\" = 'holm', split: 'Mapping[str, float] | None' = None, name: 'str | None' = None) -> 'Result'",
    "campaign_effect": "(ds: 'Dataset', *, treated: 'Mapping[str, Any]', period: 'Sequence[DayLike | Sequence[DayLike]]', metric: 'str' = 'orders', window: 'Sequence[DayLike] | None' = None, confidence: 'float' = 0.95, name: 'str | None' = None) -> 'Result'",
    "load": "(config: 'str | Path | Config | Mapping[str, Any] | None' = None, *, sessions: 'TableInput' = None, orders: 'TableInput' = None, costs: 'TableInput' = None, events: 'TableInput' = None, touchpoints: 'TableInput' = None, conversions_reference: 'TableInput' = None, customers: 'TableInput' = None, assignments: 'TableInput' = None, backend: 'BackendLike' = None, materialize: 'bool | None' = None, progress: 'Progress | None' = None, **settings: 'Any') -> 'Dataset'",
    "ltv": "(ds: 'Dataset', *, period: 'Period | None' = None, margin: 'float | None' = None, by: 'str | None' = None, average: 'Average' = 'balanced') -> 'Result'",
    "orders_per_buyer": "(ds: 'Dataset', *, period: 'Period | None' = None) -> 'Result'",
    "overview": "(ds: 'Dataset') -> 'Result'",
    "quality": "(ds: 'Dataset') -> 'Result'",
    "recommend_budget": "(ds: 'Dataset', *, horizon: 'int | None' = None, period: 'Period | None' = None, seed: 'int' = 0, resamples: 'int' = 2000, confidence: 'float' = 0.95, min_buyers: 'int' = 30, min_cohorts: 'int' = 2, move_share: 'float' = 0.1) -> 'Result'",
    "report": "(ds: 'Dataset', path: 'str | Path', *, format: 'ReportFormat' = 'html', title: 'str | None' = None, progress: 'Progress | None' = None, sections: 'Iterable[str] | None' = None, origins: 'Mapping[str, str] | None' = None) -> 'Path'",
    "retention": "(ds: 'Dataset', *, period: 'Period | None' = None, by: 'str | None' = None, average: 'Average' = 'balanced') -> 'Result'",
    "revenue_by_first_visit": "(ds: 'Dataset', *, confidence: 'float' = 0.95) -> 'Result'",
    "funnel": "(ds: 'Dataset', steps: 'Sequence[StepInput]', *, window: 'str | int | timedelta' "
    "= '7d', order: 'Order' = 'ordered', unit: 'Unit' = 'user', by: 'str | None' = None, "
    "by_step: \"Literal['first', 'last']\" = 'first', trend: 'Period | None' = None, "
    "compare: 'Sequence[tuple[str | date, str | date]] | None' = None, "
    "exclude: 'Sequence[StepInput]' = (), confidence: 'float' = 0.95) -> 'Result'",
    "romi": "(ds: 'Dataset', *, period: 'Period | None' = None, by: 'str | None' = 'source', horizon: 'int | None' = None, average: 'Average' = 'balanced') -> 'Result'",
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_public_signatures_are_pinned(name: str) -> None:
    assert str(inspect.signature(getattr(gl, name))) == SIGNATURES[name]


def test_every_registered_analysis_is_public_with_keyword_only_options() -> None:
    from growthlens.analyses import REGISTRY

    for name, analysis in REGISTRY.items():
        assert getattr(gl, name) is analysis.function, name
        parameters = list(inspect.signature(analysis.function).parameters.values())
        assert parameters[0].name == "ds"
        # Options are keyword-only; a required question (a funnel's steps, DESIGN §6) may
        # come positionally, and has no default.
        assert all(
            p.kind is inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty
            for p in parameters[1:]
        ), name


def test_error_tree() -> None:
    for error in (gl.ConfigError, gl.DataError, gl.MissingTableError, gl.MissingExtraError):
        assert issubclass(error, gl.GrowthlensError)
