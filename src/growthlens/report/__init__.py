"""Report: lays Results out as sections and renders HTML or JSON. It computes nothing."""
