"""In-memory statistics on small aggregates and per-user feature tables (never the engine).

Modules here take frames that analyses in :mod:`growthlens.metrics` return (counts, sums,
per-buyer figures) and do inference on them: intervals, tests, recommendations.
"""
