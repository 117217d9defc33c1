"""Market and competitor research workbench: ingest exports, study the category, plan, approve."""

__version__ = "0.1.0"
__all__ = ["__version__"]
