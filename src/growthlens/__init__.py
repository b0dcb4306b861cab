"""growthlens: marketing and product analytics on one data model.

>>> import growthlens as gl
>>> sorted(gl.__all__)[:3]
['ConfigError', 'DataError', 'Dataset']
"""

from growthlens.analyses import (
    ab_test,
    activity,
    aov,
    apply_imputation,
    attribution,
    cac,
    campaign_effect,
    channels,
    clusters,
    clv,
    consistency,
    conversion,
    conversion_lag,
    costs,
    event_retention,
    funnel,
    funnel_drivers,
    impute,
    kpis,
    ltv,
    orders_per_buyer,
    overview,
    paths,
    propensity,
    quality,
    recommend_budget,
    reconcile,
    retention,
    revenue_by_first_visit,
    rfm,
    romi,
    sales_trend,
    step_matrix,
    tracking,
    unit_economics,
)
from growthlens.data.config import Config, Settings
from growthlens.data.dataset import Dataset
from growthlens.data.load import load
from growthlens.demo import demo
from growthlens.engine import SparkOptions
from growthlens.errors import (
    ConfigError,
    DataError,
    GrowthlensError,
    MissingExtraError,
    MissingTableError,
)
from growthlens.report.build import report
from growthlens.result import Entry, FigureSpec, Finding, Result
from growthlens.version import __version__

__all__ = [
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
    "apply_imputation",
    "attribution",
    "cac",
    "campaign_effect",
    "channels",
    "clusters",
    "clv",
    "consistency",
    "conversion",
    "conversion_lag",
    "costs",
    "demo",
    "event_retention",
    "funnel",
    "funnel_drivers",
    "impute",
    "kpis",
    "load",
    "ltv",
    "orders_per_buyer",
    "overview",
    "paths",
    "propensity",
    "quality",
    "recommend_budget",
    "reconcile",
    "report",
    "retention",
    "revenue_by_first_visit",
    "rfm",
    "romi",
    "sales_trend",
    "step_matrix",
    "tracking",
    "unit_economics",
]
