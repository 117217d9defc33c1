"""Price bands (价格带): the price-band page of the weekly study."""

from research.analyses.prices.page import study
from research.analyses.prices.result import PriceStudy

__all__ = ["study", "PriceStudy"]
