"""Derived tables: intermediate tables built in the engine and shared by every analysis.

Each is declared once (:func:`growthlens.derive.registry.declare`) in the module of its
concept and fetched through ``ds.derived(TABLE(**params))``; the Dataset builds it on
first use and keeps it in the engine. ``DERIVED`` lists them all:

- :mod:`.acquisition`: first orders, first sessions, buyers' first visits, buyers (cohort
  and acquisition attributes), order and buyer cells per cohort;
- :mod:`.activity`: activity profiles per day, week and month, session-length counts;
- :mod:`.events`: the event log with sessions (given, or cut by inactivity);
- :mod:`.periods`: what a day, week, month and age are, as engine expressions.
"""

from growthlens.derive import acquisition, activity, events
from growthlens.derive.registry import DERIVED, DerivedKey, DerivedTable, declare

__all__ = ["DERIVED", "DerivedKey", "DerivedTable", "acquisition", "activity", "declare", "events"]
