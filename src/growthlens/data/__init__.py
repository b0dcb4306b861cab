"""Sources → canonical, validated tables: the data model, loading, validation, demo data."""
