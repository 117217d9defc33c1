"""The report pages' analyses, one subpackage each (its study entry, computations, charts)."""

__all__ = ["competitors", "forecast", "keywords", "market", "prices"]
