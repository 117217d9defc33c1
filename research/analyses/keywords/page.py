"""The keyword-trends page's entry point: the study scope mapped onto
:func:`research.analyses.keywords.analysis.analyse`.

Category and study week come from the :class:`~research.store.scope.Scope` (nothing after the
week's Sunday is read); the page's own parameters are the screening rules and the trend and
season settings.
"""

from __future__ import annotations

import os

from research.analyses.keywords.analysis import KeywordReport, Screens, analyse
from research.checks import CheckFailed, whole_number
from research.store.scope import Scope

__all__ = ["study"]


def study(scope: Scope, warehouse: str | os.PathLike[str], *, shop_is_tmall: bool = False,
          min_popularity: float = 0.0, min_conversion: float = 0.01,
          max_tmall_share: float = 0.6, min_online_items: int = 50, n_core: int = 5,
          recent_weeks: int = 4, trend_weeks: int = 13, z_threshold: float = 3.0,
          min_excess: float = 0.15, new_weeks: int = 13, history_weeks: int = 156,
          sustained_ratio: float = 1.5,
          dictionary: str | os.PathLike[str] | None = None,
          event_terms: int | None = 50) -> KeywordReport:
    """The keyword-trends page for one study scope.

    Parameters
    ----------
    scope : Scope
        Category and study week (its competitor set is carried to the result and stated on
        the page).
    warehouse : path-like
        The DuckDB warehouse (read-only).
    shop_is_tmall, min_popularity, min_conversion, max_tmall_share, min_online_items :
        The screens (:class:`~research.analyses.keywords.analysis.Screens`).
    n_core, recent_weeks, trend_weeks, z_threshold, min_excess, new_weeks, history_weeks, sustained_ratio, dictionary, event_terms :
        See :func:`~research.analyses.keywords.analysis.analyse`.

    Returns
    -------
    KeywordReport
        With ``competitors`` = the scope's and ``scope`` set.
    """
    for name, value, least in (("recent_weeks", recent_weeks, 1), ("trend_weeks", trend_weeks, 2),
                               ("new_weeks", new_weeks, 1), ("history_weeks", history_weeks, 1),
                               ("n_core", n_core, 0), ("min_online_items", min_online_items, 0)):
        try:
            whole_number(value, name, least)
        except CheckFailed as exc:
            raise ValueError(f"keyword_trends parameter {name}={value!r}: {exc}") from None
    screens = Screens(min_popularity=min_popularity, min_conversion=min_conversion,
                      max_tmall_share=max_tmall_share, min_online_items=min_online_items,
                      shop_is_tmall=shop_is_tmall)
    report = analyse(warehouse, scope.category, scope.week, screens, recent_weeks=recent_weeks,
                     trend_weeks=trend_weeks, z_threshold=z_threshold, min_excess=min_excess,
                     new_weeks=new_weeks, history_weeks=history_weeks, n_core=n_core,
                     sustained_ratio=sustained_ratio,
                     dictionary=dictionary or None, event_terms=event_terms)
    report.competitors = tuple(scope.competitors)
    report.scope = scope
    return report
