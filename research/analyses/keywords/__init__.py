"""Keyword trends (关键词趋势): the keyword page of the weekly study."""

from research.analyses.keywords.analysis import KeywordReport
from research.analyses.keywords.page import study

__all__ = ["study", "KeywordReport"]
