"""Two-month outlook (销售预测): the forecast page of the weekly study."""

from research.analyses.forecast.page import ForecastPage, study

__all__ = ["study", "ForecastPage"]
