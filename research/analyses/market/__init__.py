"""Market overview (行业大盘): the market overview page of the weekly study."""

from research.analyses.market.overview import MarketOverview
from research.analyses.market.page import study

__all__ = ["study", "MarketOverview"]
