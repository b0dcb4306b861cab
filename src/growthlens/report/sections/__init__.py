"""Report sections, in report order. Each module has ``build(ds) -> Section | None``.

``SECTIONS`` lists the module names (in this package) in the order the report shows them;
add a section by adding its module name here.
"""

SECTIONS: tuple[str, ...] = (
    "overview",
    "quality",
    "product",
    "sales",
    "marketing",
    "recommendation",
)
