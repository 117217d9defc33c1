"""Competitor traffic (竞品流量): the competitor page of the weekly study."""

from research.analyses.competitors.page import CompetitorStudy, study

__all__ = ["study", "CompetitorStudy"]
