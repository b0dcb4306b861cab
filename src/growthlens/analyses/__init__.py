"""Analyses: one module each, registered in :data:`~growthlens.analyses.registry.REGISTRY`.

Importing this package registers every analysis. The report's order comes from
``growthlens.report.layout`` (groups, and the order of the analyses it knows), not from
the imports below. The public functions are re-exported by ``growthlens``.
"""

from growthlens.analyses.ab_test import ab_test
from growthlens.analyses.activity import activity
from growthlens.analyses.aov import aov
from growthlens.analyses.attribution import attribution
from growthlens.analyses.budget import recommend_budget
from growthlens.analyses.cac import cac
from growthlens.analyses.campaign_effect import campaign_effect
from growthlens.analyses.channels import channels
from growthlens.analyses.clusters import clusters
from growthlens.analyses.clv import clv
from growthlens.analyses.consistency import consistency
from growthlens.analyses.conversion import conversion
from growthlens.analyses.conversion_lag import conversion_lag
from growthlens.analyses.costs import costs
from growthlens.analyses.event_retention import event_retention
from growthlens.analyses.first_visit import revenue_by_first_visit
from growthlens.analyses.funnel import funnel
from growthlens.analyses.funnel_drivers import funnel_drivers
from growthlens.analyses.impute import apply_imputation, impute
from growthlens.analyses.kpis import kpis
from growthlens.analyses.ltv import ltv
from growthlens.analyses.orders_per_buyer import orders_per_buyer
from growthlens.analyses.overview import overview
from growthlens.analyses.paths import paths
from growthlens.analyses.propensity import propensity
from growthlens.analyses.quality import quality
from growthlens.analyses.reconcile import reconcile
from growthlens.analyses.registry import GROUPS, REGISTRY, Analysis, Plan, register
from growthlens.analyses.retention import retention
from growthlens.analyses.rfm import rfm
from growthlens.analyses.romi import romi
from growthlens.analyses.sales_trend import sales_trend
from growthlens.analyses.step_matrix import step_matrix
from growthlens.analyses.tracking import tracking
from growthlens.analyses.unit_economics import unit_economics

__all__ = [
    "GROUPS",
    "REGISTRY",
    "Analysis",
    "Plan",
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
    "event_retention",
    "funnel",
    "funnel_drivers",
    "impute",
    "kpis",
    "ltv",
    "orders_per_buyer",
    "overview",
    "paths",
    "propensity",
    "quality",
    "recommend_budget",
    "reconcile",
    "register",
    "retention",
    "revenue_by_first_visit",
    "rfm",
    "romi",
    "sales_trend",
    "step_matrix",
    "tracking",
    "unit_economics",
]
