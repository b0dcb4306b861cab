"""The package version, in one place (the package root and the JSON export read it)."""

__version__ = "0.1.0"
