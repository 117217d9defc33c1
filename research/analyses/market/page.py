"""The market overview page's entry point: the study scope mapped onto
:func:`research.analyses.market.overview.market_overview`.

Category and study week come from the :class:`~research.store.scope.Scope` (nothing after the
week's Sunday is read); our shop and the competitor set are placed among all the category's
shops (:func:`research.analyses.market.shops.scope_shops`). The page's own parameters are
how many leaders and best-sellers to list.
"""

from __future__ import annotations

import os

from research.analyses.market.overview import MarketOverview, market_overview
from research.checks import CheckFailed, whole_number
from research.store.scope import Scope

__all__ = ["study"]


def study(scope: Scope, warehouse: str | os.PathLike[str], *, leaders_n: int = 10,
          min_sales: int = 100, top_best: int = 30) -> MarketOverview:
    """The market overview page for one study scope.

    Parameters
    ----------
    scope : Scope
        Category, study week, our shop and the competitor set.
    warehouse : path-like
        The DuckDB warehouse (read-only).
    leaders_n : int
        Leaders (shops) listed per snapshot.
    min_sales : int
        Best-seller minimum: 30-day units on the latest snapshot.
    top_best : int
        Best-sellers listed.

    Returns
    -------
    MarketOverview
        With ``competitors`` = the scope's and ``scope`` set.
    """
    for name, value, least in (("leaders_n", leaders_n, 1), ("min_sales", min_sales, 0),
                               ("top_best", top_best, 1)):
        try:
            whole_number(value, name, least)
        except CheckFailed as exc:
            raise ValueError(f"market_overview parameter {name}={value!r}: {exc}") from None
    result = market_overview(warehouse=warehouse, category=scope.category, week=scope.week,
                             top_n=leaders_n, min_sales=min_sales, top_best=top_best)
    result.competitors = tuple(scope.competitors)
    result.scope = scope
    return result
