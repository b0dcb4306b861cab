"""The public surface is pinned: adding or removing a name is a deliberate change here."""

from __future__ import annotations

import growthlens as gl

EXPECTED = {
    "Config",
    "ConfigError",
    "DataError",
    "Dataset",
    "FigureSpec",
    "GrowthlensError",
    "MissingExtraError",
    "MissingTableError",
    "Result",
    "Settings",
    "__version__",
    "activity",
    "aov",
    "cac",
    "conversion_lag",
    "costs",
    "demo",
    "load",
    "ltv",
    "orders_per_buyer",
    "overview",
    "quality",
    "recommend_budget",
    "report",
    "retention",
    "romi",
}


def test_all_is_pinned_and_sorted() -> None:
    assert set(gl.__all__) == EXPECTED
    assert list(gl.__all__) == sorted(gl.__all__)
    for name in gl.__all__:
        assert hasattr(gl, name), name


def test_error_tree() -> None:
    for error in (gl.ConfigError, gl.DataError, gl.MissingTableError, gl.MissingExtraError):
        assert issubclass(error, gl.GrowthlensError)
