"""The forecasting engine, a library that knows no page: model choice by rolling-origin
backtest, promotions as inputs, calibrated intervals (``engine``, ``models``, ``backtest``,
``accuracy``). It imports only :mod:`research.calendar`.
"""

from research.forecasting.engine import ForecastResult, ManyResult, forecast, forecast_many

__all__ = ["ForecastResult", "ManyResult", "forecast", "forecast_many"]
