"""The report pages' analyses, one subpackage each (its study entry, computations, charts)."""
