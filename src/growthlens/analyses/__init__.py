"""Analyses: each one module, registered in :data:`~growthlens.analyses.registry.REGISTRY`.

Importing this package registers every analysis; the import order below is the report's
order within each group. The public functions are re-exported by ``growthlens``.
"""

from growthlens.analyses.registry import GROUPS, REGISTRY, Analysis, Plan, register
from growthlens.analyses.retention import retention  # group "product"
from growthlens.metrics.activity import activity  # group "product"
from growthlens.metrics.conversion import conversion_lag  # group "sales"
from growthlens.metrics.marketing import cac, costs, romi  # group "marketing"
from growthlens.metrics.overview import overview, quality  # group "data"
from growthlens.metrics.revenue import aov, ltv, orders_per_buyer  # group "sales"
from growthlens.stats.budget import recommend_budget  # group "recommendation"

__all__ = [
    "GROUPS",
    "REGISTRY",
    "Analysis",
    "Plan",
    "activity",
    "aov",
    "cac",
    "conversion_lag",
    "costs",
    "ltv",
    "orders_per_buyer",
    "overview",
    "quality",
    "recommend_budget",
    "register",
    "retention",
    "romi",
]
