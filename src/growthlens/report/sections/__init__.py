"""Report sections, in report order. Each module has ``build(ds) -> Section | None``."""
