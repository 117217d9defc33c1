"""The price-band page's entry point: the study scope mapped onto
:func:`research.analyses.prices.analysis.price_study`.

Category, study week, our shop, the competitor set and the currency all come from the
:class:`~research.store.scope.Scope`; the page chooses none of them. Its own parameters (an
explicit snapshot, band edges, unit cost, margin and share thresholds) are checked before
anything is read, and a bad one is refused with its name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from research.analyses.prices.analysis import price_study
from research.analyses.prices.bands_sql import TRICK_KEYWORDS
from research.analyses.prices.result import PriceStudy
from research.checks import CheckFailed, check_parameter
from research.store.scope import Scope, our_sales

__all__ = ["study", "check_parameters"]


def check_parameters(*, snapshot: str = "", edges: Sequence[object] = (), n_bands: int = 8,
                     unit_cost: float = 0.0, min_margin: float = 0.3,
                     min_band_share: float = 0.05, week_end: str = "") -> None:
    """Refuse a bad page parameter with its name (a ``ValueError``), before anything is read.

    ``snapshot`` must be empty or a date ``YYYY-MM-DD`` not after ``week_end`` (the study
    week's Sunday: later data is never read); ``edges`` numbers, ≥ 0 and strictly increasing
    (0 and a sentinel ≥ 1e9 or infinity are allowed and dropped); ``n_bands`` ≥ 1;
    ``unit_cost`` ≥ 0; ``min_margin`` and ``min_band_share`` fractions in [0, 1).

    Examples
    --------
    >>> check_parameters(snapshot="2026-11-22", edges=[29, 49, 99], week_end="2026-11-22")
    >>> check_parameters(edges=[49, 29])
    Traceback (most recent call last):
    ...
    ValueError: price_bands parameter edges=[49, 29]: parameter 'edges' must be strictly \
increasing numbers: 49 then 29
    """
    for name, value in (("snapshot", snapshot), ("edges", list(edges)), ("n_bands", n_bands),
                        ("min_margin", min_margin), ("min_band_share", min_band_share)):
        try:
            check_parameter(name, value)
        except CheckFailed as exc:
            raise ValueError(f"price_bands parameter {name}={value!r}: {exc}") from None
    if snapshot and week_end and pd.Timestamp(snapshot) > pd.Timestamp(week_end):
        raise ValueError(f"price_bands parameter snapshot={snapshot!r}: after the study "
                         f"week's Sunday {week_end} (no later data is read)")
    if any(float(e) < 0 for e in edges):  # type: ignore[arg-type]  # numbers: checked above
        raise ValueError(f"price_bands parameter edges={list(edges)!r}: band edges must be "
                         "strictly increasing numbers ≥ 0")
    if isinstance(unit_cost, bool) or not isinstance(unit_cost, int | float) or unit_cost < 0:
        raise ValueError(f"price_bands parameter unit_cost={unit_cost!r}: a number ≥ 0 "
                         "(0 = unknown)")
    for name, value in (("min_margin", min_margin), ("min_band_share", min_band_share)):
        if value >= 1:
            raise ValueError(f"price_bands parameter {name}={value!r}: a fraction in [0, 1)")


def study(scope: Scope, warehouse: str | os.PathLike[str], *, snapshot: str = "",
          edges: Sequence[float] = (), n_bands: int = 8, unit_cost: float = 0.0,
          min_margin: float = 0.3, min_band_share: float = 0.05,
          trick_keywords: Sequence[str] = TRICK_KEYWORDS) -> PriceStudy:
    """The price-band page for one study scope.

    Parameters
    ----------
    scope : Scope
        Category, study week (the latest listing snapshot on or before its Sunday is
        studied), our shop, the competitor set positioned on the bands, and the currency
        used when the listings carry none.
    warehouse : path-like
        The DuckDB warehouse (attached read-only).
    snapshot : str
        An explicit listing snapshot ``YYYY-MM-DD`` (on or before the week's Sunday);
        empty = from the week.
    edges : sequence of float
        Explicit interior band edges; empty = automatic at round price points.
    n_bands : int
        At most this many bands when the edges are automatic.
    unit_cost, min_margin, min_band_share :
        See :func:`research.analyses.prices.tables.recommend_price`.
    trick_keywords : sequence of str
        Title words of deposit / price-change links.

    Returns
    -------
    PriceStudy
        With ``competitors`` = the scope's and ``scope`` set.

    Raises
    ------
    ValueError
        A bad parameter (named), or an explicit snapshot the data does not hold.
    """
    check_parameters(snapshot=snapshot, edges=edges, n_bands=n_bands, unit_cost=unit_cost,
                     min_margin=min_margin, min_band_share=min_band_share,
                     week_end=scope.week_end)
    result = price_study(warehouse, category=scope.category, week=scope.week,
                         snapshot=snapshot, shop=scope.shop, competitors=scope.competitors,
                         sales=our_sales(warehouse, scope), edges=edges, n_bands=n_bands,
                         unit_cost=unit_cost, min_margin=min_margin,
                         min_band_share=min_band_share, currency=scope.currency,
                         trick_keywords=trick_keywords)
    if snapshot and not result.has_data:
        raise ValueError(f"price_bands parameter snapshot={snapshot!r}: "
                         f"{result.warnings[0] if result.warnings else 'no listings'}")
    result.competitors = tuple(scope.competitors)
    result.scope = scope
    return result
