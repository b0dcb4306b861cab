"""growthlens: marketing and product analytics on one data model.

>>> import growthlens as gl
>>> sorted(gl.__all__)[:3]
['ConfigError', 'DataError', 'Dataset']
"""

from growthlens.analyses import (
    activity,
    aov,
    cac,
    conversion_lag,
    costs,
    ltv,
    orders_per_buyer,
    overview,
    quality,
    recommend_budget,
    retention,
    romi,
)
from growthlens.config import Config, Settings
from growthlens.data.dataset import Dataset
from growthlens.data.load import load
from growthlens.demo import demo
from growthlens.errors import (
    ConfigError,
    DataError,
    GrowthlensError,
    MissingExtraError,
    MissingTableError,
)
from growthlens.report.build import report
from growthlens.result import FigureSpec, Result
from growthlens.version import __version__

__all__ = [
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
]
