"""The report's layout: its groups in order, each with a title and an introduction.

A group is left out (and the report says why) when a table it needs is missing.
Which analyses a group holds comes from the registry (each analysis names its group);
``ORDER`` only says in which order the known ones appear. An analysis registered later
and not listed here is shown after them, in registration order, so adding an analysis
needs no change here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """One report group.

    Attributes:
        id: anchor and JSON key (``"product"``); the analyses' ``group``.
        title: heading.
        intro: one or two plain sentences on what the group answers.
        shown_when: tables without which the group is left out (and said so).
        any_of: tables of which at least one must be present too (none: no such rule).
    """

    id: str
    title: str
    intro: str
    shown_when: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()


GROUPS: tuple[Group, ...] = (
    Group(
        "overview",
        "Data overview",
        "What was loaded: rows per table, the dates they cover, distinct users, the columns "
        "and how they were mapped, and the data window every metric uses.",
    ),
    Group(
        "quality",
        "Data quality",
        "Problems found while loading, with how many rows each concerns and whether the rows "
        "were excluded or kept, so every number in this report traces back to row counts that "
        "add up.",
    ),
    Group(
        "product",
        "Product: activity and retention",
        "How many people use the product per day, week and month, how long sessions last, and "
        "how many users come back after their first visit.",
        ("sessions",),
    ),
    Group(
        "funnels",
        "Funnels and paths",
        "Where users drop out between the first step and the last, which segments struggle and "
        "whether the gap is more than chance, how conversion moves over time, what users do "
        "instead, and what goes with dropping out.",
        ("events",),
    ),
    Group(
        "sales",
        "Sales: conversion, orders, average check and LTV",
        "How long visitors take to buy, how often buyers come back to order, what an order is "
        "worth and how much gross profit a buyer brings over time.",
        ("orders",),
    ),
    Group(
        "marketing",
        "Marketing: spend, CAC and ROMI",
        "Where the marketing money went, what a buyer cost to acquire, and how much of that "
        "cost each cohort's gross profit has returned so far (ROMI 0 = paid back).",
        ("costs",),
    ),
    Group(
        "attribution",
        "Channels, attribution and reconciliation",
        "What each channel, campaign and market earned and cost, how the credit for a "
        "conversion moves with the attribution model and how sure we can be, and whether the "
        "conversions agree with the trusted copy.",
        ("orders",),
    ),
    Group(
        "experiments",
        "Experiments and campaigns",
        "Whether each test and campaign changed what customers bought, by how much and how "
        "sure we can be, whether the test itself was sound, and what to do next.",
        ("orders",),
        ("assignments", "customers"),
    ),
    Group(
        "customers",
        "Customers: segments, clusters, lifetime value and whom to target",
        "Who the customers are and how they group, what each is likely to be worth, and whom "
        "the next campaign should reach so that it changes behaviour.",
        ("orders",),
    ),
    Group(
        "recommendation",
        "Budget recommendation",
        "Which sources to grow, hold or cut, decided on each source's ROMI at the horizon and "
        "the uncertainty around it; suggested moves of money are priced under a stated "
        "assumption.",
        ("costs", "orders"),
    ),
)

ORDER: tuple[str, ...] = (
    "overview",
    "kpis",
    "quality",
    "consistency",
    "reconcile",
    "activity",
    "retention",
    "funnel",
    "funnel_drivers",
    "paths",
    "step_matrix",
    "event_retention",
    "conversion",
    "conversion_lag",
    "orders_per_buyer",
    "aov",
    "sales_trend",
    "ltv",
    "costs",
    "cac",
    "romi",
    "unit_economics",
    "channels",
    "attribution",
    "ab_test",
    "campaign_effect",
    "rfm",
    "clusters",
    "clv",
    "propensity",
    "impute",
    "recommend_budget",
)
"""Report order of the analyses known when the layout was written."""
