"""What the price-band page returns: :class:`PriceStudy`, the tables and sentences the report
shows (built by :func:`research.analyses.prices.analysis.analyse_prices`, drawn by
:mod:`research.analyses.prices.charts`). The result columns are documented in
:mod:`research.analyses.prices.analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from research.pages.display import fmt_money
from research.price_points import MIN_LISTINGS
from research.store.scope import Scope

__all__ = ["PriceStudy", "Underserved"]


@dataclass(frozen=True)
class Underserved:
    """The page's underserved-band claim (蓝海价格带 / 供给不足): the band ``(price_lo,
    price_hi]`` of the study snapshot whose listings sell most above both neighbours
    (method and detection limit: :mod:`research.analyses.prices.demand_band`).

    ``demand_ratio`` is the band's 30-day units per listing ÷ the better neighbour's; ``z``
    the band's excess of mean ln(1 + units) over the better neighbour's in standard errors;
    ``listings`` its clean listings on the study snapshot.
    """

    band_label: str
    price_lo: float
    price_hi: float
    listings: int
    demand_ratio: float
    z: float


@dataclass
class PriceStudy:
    """Everything the price-band report shows (see :func:`~research.analyses.prices.analysis.analyse_prices`).

    ``competitors`` is the competitor set positioned (the study scope's on the page path);
    ``scope`` is the study scope when the page ran through
    :func:`research.analyses.prices.page.study`.
    """

    snapshot: pd.Timestamp
    currency: str
    edges: list[float]
    edges_source: str
    bands: pd.DataFrame
    movement: pd.DataFrame
    positions: pd.DataFrame
    recommendation: pd.DataFrame
    distribution: pd.DataFrame
    excluded: pd.DataFrame
    excluded_counts: pd.DataFrame
    listings_per_snapshot: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    order_value: pd.DataFrame = field(default_factory=pd.DataFrame)
    order_value_note: str = "order value (客单价) not computed: no audience or sales data given"
    shop: str = ""
    quantiles: pd.DataFrame = field(default_factory=pd.DataFrame)
    competitors: tuple[str, ...] = ()
    scope: Scope | None = None
    #: the underserved-band claim, or None (then :attr:`underserved_note` says why)
    underserved: Underserved | None = None
    #: one sentence, Chinese first: the band claimed with its evidence, or that none was
    #: found; both with the rule
    underserved_note: str = ""

    @property
    def study_bands(self) -> pd.DataFrame:
        """Band rows of the study snapshot."""
        return self.bands[self.bands["snapshot_date"] == self.snapshot].reset_index(drop=True)

    @property
    def has_data(self) -> bool:
        """Whether any listing snapshot was found (else :attr:`warnings` says why)."""
        return not pd.isna(self.snapshot)

    @property
    def study_listings(self) -> int:
        """Clean listings on the study snapshot."""
        row = self.listings_per_snapshot
        row = row[row["snapshot_date"] == self.snapshot]
        return int(row["clean_listings"].iloc[0]) if len(row) else 0

    @property
    def charts_ok(self) -> bool:
        """Whether the study snapshot has enough listings (:data:`MIN_LISTINGS`) to chart."""
        return self.study_listings >= MIN_LISTINGS

    @property
    def recommended(self) -> pd.Series | None:
        """The recommended band's row of :attr:`recommendation`, or None."""
        rec = self.recommendation[self.recommendation["role"] == "recommended"]
        return rec.iloc[0] if len(rec) else None

    @property
    def missing_competitors(self) -> list[str]:
        """Competitors of the set with no clean listing on the study snapshot."""
        seen = set(self.positions["shop"]) if not self.positions.empty else set()
        return [c for c in self.competitors if c not in seen]

    def results(self) -> dict[str, pd.DataFrame]:
        """The result tables by CSV name: price_bands, price_recommendation, price_positions."""
        return {"price_bands": self.bands, "price_recommendation": self.recommendation,
                "price_positions": self.positions}

    def summary(self) -> str:
        """One sentence for the study's index page."""
        rec = self.recommended

        def money(x: float) -> str:
            return fmt_money(x, self.currency)

        if not self.has_data:
            return "Price bands not computed: " + (self.warnings[0] if self.warnings
                                                   else "no listings") + "."
        if not self.charts_ok:
            return (f"Price bands of {self.snapshot.date()}: only {self.study_listings} clean "
                    f"listings, too few to read bands.")
        claim = self.underserved
        band = (f" Underserved band (蓝海价格带) {claim.band_label}: {claim.demand_ratio:.1f}× "
                f"the better neighbour's units per listing." if claim is not None
                else " No underserved band found.")
        if rec is None:
            return (f"Price bands of {self.snapshot.date()}: no band holds enough sales and "
                    f"leaves the target margin; no price recommended." + band)
        return (f"Price bands of {self.snapshot.date()}: recommend band {rec.band_label} at "
                f"{money(rec.price_point)} (demand per listing {rec.demand_per_listing:.2f}, "
                f"{rec.units_share:.0%} of units)." + band)
