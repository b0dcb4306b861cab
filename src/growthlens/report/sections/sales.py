"""Report section "Sales": conversion lag, orders per buyer, average check and LTV."""

from __future__ import annotations

from growthlens.data.dataset import Dataset
from growthlens.metrics.conversion import conversion_lag
from growthlens.metrics.revenue import aov, ltv, orders_per_buyer
from growthlens.report.model import Section
from growthlens.result import Result


def build(ds: Dataset) -> Section | None:
    """The sales section, or ``None`` without orders."""
    if not ds.has("orders"):
        return None
    period = ds.settings.period
    results: list[Result] = []
    skipped: list[str] = []
    if ds.has("sessions"):
        results.append(conversion_lag(ds, period=period))
    else:
        skipped.append(
            "Conversion lag needs sessions (the first visit); this dataset has orders but no "
            "sessions."
        )
    results += [orders_per_buyer(ds, period=period), aov(ds, period=period), ltv(ds, period=period)]
    return Section(
        id="sales",
        title="Sales: conversion, orders, average check and LTV",
        results=tuple(results),
        intro=(
            "How long visitors take to buy, how often buyers come back to order, what an order "
            "is worth and how much gross profit a buyer brings over time."
        ),
        skipped=tuple(skipped),
    )
