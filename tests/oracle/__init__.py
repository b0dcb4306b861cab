"""Plain-pandas reference computations of every definition in docs/metrics.md."""
