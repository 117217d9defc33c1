"""Every analysis on a generated market, checked against the market's planted truth.

A *market* is what ``research sample --profile NAME --seed N`` writes: platform exports and
``truth.json``. :func:`build_market` generates one and ingests it into its own warehouse;
:func:`check_market` runs each page as the weekly study does (its entry point with the
page's default parameters, for the scope ``research run`` would resolve) and compares what
the page shows with the truth. Each comparison is a :class:`Check`:

- ``kind="signal"``: a planted signal the page must find (a rising term, the underserved
  band, the affiliate start, the leading province, the promotion peak in the forecast …);
- ``kind="false_flag"``: something the page must *not* claim (a purely seasonal term called
  rising, a traffic move on a quiet channel, a term that was not planted called rising …).

Both the suite (``tests/markets/test_family.py``: each named profile and fixed random seeds)
and ``make test-markets N=50`` (``python -m tests.markets.report``: fresh random seeds, the
share of markets where each check held) use these functions, so they judge alike.

Tolerances are stated beside each check: they are what a reader of the page would accept as
"found" (a week, a day, a band that overlaps most of the planted one), never tuned to one
market.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from research.weeks import iso_week, week_bounds

__all__ = ["Check", "Market", "build_market", "check_market", "CHECKERS"]

#: a traffic move on a quiet (shop, channel) pair at most this often per year of data is noise
QUIET_MOVES_PER_YEAR = 1.0
#: the affiliate campaign's start and drop: found when a move of that kind is this close (days)
AFFILIATE_DAYS = 2
#: the paid-search shift (a 7-day ramp): found when a mix shift is this close to its middle
SHIFT_DAYS = 7
#: the breakout week: found when the page's week is this close (ISO weeks)
BREAKOUT_WEEKS = 1
#: listings left out as price outliers (not planted tricks): at most this share
OUTLIER_SHARE = 0.01
#: the underserved band: found when the page's best band overlaps it by this share of the
#: page band's width (and the page band is not more than twice as wide)
BAND_OVERLAP = 0.5


@dataclass(frozen=True)
class Check:
    """One comparison of a page's result with the planted truth."""

    analysis: str
    signal: str
    kind: str          # "signal" (must be found) or "false_flag" (must not be raised)
    ok: bool           # the page did right: the signal found, the false flag not raised
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", bool(self.ok))  # numpy.bool_ from pandas comparisons

    @property
    def label(self) -> str:
        """``analysis/signal`` without the market-specific part after ``:``."""
        return f"{self.analysis}/{self.signal.split(':')[0]}"


@dataclass(frozen=True)
class Market:
    """A generated market: its folder of exports, its warehouse and its truth."""

    profile: str
    seed: int
    folder: Path
    warehouse: Path
    truth: dict

    @property
    def replay(self) -> str:
        """The command that writes this market again."""
        return f"research sample --profile {self.profile} --seed {self.seed} --out DIR"


def build_market(root: Path, profile: str, seed: int) -> Market:
    """Generate the market ``profile``/``seed`` under ``root`` and ingest it.

    Every export must load: a refused file is a failure of the generator or of ingest, and
    is raised with the market's replay command.
    """
    from research.sample.market import generate_sample
    from research.sources.exports import ingest_paths

    folder = root / f"{profile}-{seed}"
    warehouse = root / f"{profile}-{seed}.duckdb"
    generate_sample(folder, seed=seed, profile=profile)
    results = ingest_paths([folder], warehouse=warehouse)
    refused = [r.message for r in results if r.outcome != "loaded"]
    if refused:
        raise AssertionError(f"market {profile} seed {seed}: files not loaded "
                             f"(replay: research sample --profile {profile} --seed {seed}):\n"
                             + "\n".join(refused))
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return Market(profile, seed, folder, warehouse, truth)


# ------------------------------------------------------------------------------ keywords

def check_keywords(market: Market, scope) -> Iterator[Check]:
    """Rising, falling, breakout, seasonal-only and blue-ocean terms; modifiers found."""
    from research.analyses.keywords import study

    kw = market.truth["keywords"]
    report = study(scope, market.warehouse)
    m = report.metrics.set_index("keyword")
    direction = m["direction"]
    rising = set(direction[direction == "rising"].index)
    falling = set(direction[direction == "falling"].index)
    for term in kw["rising"]:
        yield Check("keywords", f"rising:{term}", "signal", term in rising,
                    f"{term}: direction {direction.get(term, 'absent')!r}")
    for term in kw["falling"]:
        yield Check("keywords", f"falling:{term}", "signal", term in falling,
                    f"{term}: direction {direction.get(term, 'absent')!r}")
    for term in kw["seasonal_only"]:
        moved = direction.get(term, "") in ("rising", "falling")
        yield Check("keywords", f"seasonal_called_moving:{term}", "false_flag", not moved,
                    f"{term}: direction {direction.get(term, 'absent')!r}")
    planted = set(kw["rising"]) | set(kw["falling"]) | {kw["breakout"]["term"]}
    extra = sorted((rising | falling) - planted)
    yield Check("keywords", "unplanted_term_called_moving", "false_flag", not extra,
                f"not planted but called rising/falling: {extra[:8]}")
    brk = kw["breakout"]
    new = m[m["is_new"] & m["is_breakout"]] if "is_breakout" in m else m.iloc[:0]
    found = brk["term"] in new.index
    yield Check("keywords", "breakout", "signal", found,
                f"{brk['term']}: {'flagged' if found else 'not flagged'} as a breakout")
    if found:
        week = str(new.loc[brk["term"], "breakout_week"])
        gap = abs((week_bounds(week)[0] - week_bounds(brk["breakout_week"])[0]).days) // 7
        yield Check("keywords", "breakout_week", "signal", gap <= BREAKOUT_WEEKS,
                    f"{brk['term']}: page {week}, planted {brk['breakout_week']}")
    core = report.core
    shortlist = set(core.loc[core["role"] == "core", "keyword"])
    if market.truth.get("shapes", {}).get("keywords_no_online_items"):
        # blue ocean = demand above supply: without 在线商品数 the page cannot see supply, so
        # it must say so instead of the planted terms being required in the shortlist
        said = any("在线商品数" in n for n in report.notes)
        yield Check("keywords", "supply_missing_said", "signal", said,
                    "the page names 在线商品数 as missing" if said else
                    f"no note names 在线商品数: {report.notes[:3]}")
        blue = ()
    else:
        blue = kw.get("blue_ocean", [])
    for term in blue:
        yield Check("keywords", f"blue_ocean:{term}", "signal", term in shortlist,
                    f"{term} {'in' if term in shortlist else 'not in'} the core shortlist "
                    f"{sorted(shortlist)}")
    yield Check("keywords", "modifiers", "signal", not report.style_terms.empty,
                f"{len(report.style_terms)} modifier rows")


# -------------------------------------------------------------------------------- prices

def check_prices(market: Market, scope) -> Iterator[Check]:
    """The page's underserved-band claim (``PriceStudy.underserved``) against the planted
    band; every trick listing excluded.

    Found: the claimed band overlaps the planted one by ≥ :data:`BAND_OVERLAP` of the claimed
    band's width and is at most twice the planted width. False flags: a claimed band that
    does not overlap the planted one at all (a band that is not there), and a claimed band
    at either end of the page's band ladder (a thin edge band is no bump above two
    neighbours). Every generated market plants a band, so a market without one is checked in
    ``tests/analyses/test_prices.py`` (hand-made markets), not here.
    """
    from research.analyses.prices import study

    truth = market.truth["prices"]
    page = study(scope, market.warehouse)
    lo, hi = (float(v) for v in truth["underserved_band"])
    claim = page.underserved
    strength = (f"band_boost {truth.get('band_boost')}, kept share "
                f"{truth.get('band_kept_share')}")
    if claim is None:
        yield Check("prices", "underserved_band", "signal", False,
                    f"no band claimed, planted ({lo:g}, {hi:g}] ({strength}): "
                    f"{page.underserved_note}")
    else:
        b_lo, b_hi = float(claim.price_lo), float(claim.price_hi)
        overlap = max(0.0, min(hi, b_hi) - max(lo, b_lo))
        width = b_hi - b_lo
        ok = width > 0 and overlap >= BAND_OVERLAP * width and width <= 2 * (hi - lo)
        yield Check("prices", "underserved_band", "signal", ok,
                    f"page's claim ({b_lo:g}, {b_hi:g}] (z {claim.z:.1f}, "
                    f"{claim.demand_ratio:.1f}×) against planted ({lo:g}, {hi:g}] ({strength})")
        yield Check("prices", "band_not_planted", "false_flag", overlap > 0,
                    f"claimed ({b_lo:g}, {b_hi:g}], planted ({lo:g}, {hi:g}]: overlap "
                    f"{overlap:g}")
        # the ladder's end bands are ≤ its first edge and > its last: a claim reaching into
        # either has no neighbour on one side
        edges = [float(e) for e in page.edges]
        at_end = not edges or b_lo < min(edges) or b_hi > max(edges)
        yield Check("prices", "edge_band_claimed", "false_flag", not at_end,
                    f"claimed ({b_lo:g}, {b_hi:g}]; the page's edges {page.edges}")
    tricks = set(truth.get("trick_item_ids", []))
    excluded = set(page.excluded["item_id"].astype(str)) if len(page.excluded) else set()
    yield Check("prices", "trick_listings_excluded", "signal", tricks <= excluded,
                f"not excluded: {sorted(tricks - excluded)}")
    if "item_id" in page.excluded and tricks:
        # a listing may also leave as a price outlier by the page's stated rule (a far-out
        # ln(price)); that is not a trick claim, but it must stay rare
        ex = page.excluded.assign(item_id=page.excluded["item_id"].astype(str))
        outlier = ex["trick_reason"].astype(str).str.startswith("outlier")
        wrong = sorted(set(ex.loc[~outlier, "item_id"]) - tricks)
        yield Check("prices", "listing_called_trick", "false_flag", not wrong,
                    f"called a trick listing but not planted: {wrong[:5]}")
        listed = page.listings_per_snapshot
        n = float(listed["clean_listings"].iloc[-1]) if len(listed) else 0.0
        share = len(set(ex.loc[outlier, "item_id"]) - tricks) / n if n else 0.0
        yield Check("prices", "outliers_over_1pct", "false_flag", share <= OUTLIER_SHARE,
                    f"{share:.2%} of listings left out as price outliers")


# --------------------------------------------------------------------------- competitors

def check_competitors(market: Market, scope) -> Iterator[Check]:
    """The affiliate start and drop, the paid-search shift, no moves on quiet channels, the
    planted advantages."""
    from research.analyses.competitors import study

    traffic = market.truth["traffic"]
    page = study(scope, market.warehouse)
    ev = page.events
    aff = traffic.get("affiliate")
    if aff:
        mine = ev[(ev["shop"] == aff["shop"]) & (ev["channel"] == aff["channel"])]
        # a campaign on a channel near zero is a "start"/"drop"; on a channel with a level
        # of its own the page calls the same move a "step up"/"step down"
        for kind, kinds in (("start", ("start", "step up")), ("drop", ("drop", "step down"))):
            dates = pd.to_datetime(mine.loc[mine["kind"].isin(kinds), "date"])
            gap = (abs(dates - pd.Timestamp(aff[kind])).dt.days.min()
                   if len(dates) else None)
            studied = "" if aff["shop"] in page.shops.competitors else \
                f" (not in the page's competitor set {list(page.shops.competitors)})"
            yield Check("competitors", f"affiliate_{kind}", "signal",
                        gap is not None and gap <= AFFILIATE_DAYS,
                        f"{aff['shop']} {aff['channel']} {kind} planted {aff[kind]}, "
                        f"nearest found {gap} days away{studied}")
    shift = traffic.get("paid_shift")
    shifts = ev[ev["kind"] == "mix shift"]
    if shift:
        mix = shifts[(shifts["shop"] == shift["shop"])
                     & (shifts["from_channel"] == shift["from"])
                     & (shifts["to_channel"] == shift["to"])]
        gap = (abs(pd.to_datetime(mix["date"]) - pd.Timestamp(shift["date"])).dt.days.min()
               if len(mix) else None)
        yield Check("competitors", "paid_shift", "signal", gap is not None and gap <= SHIFT_DAYS,
                    f"{shift['shop']} {shift['from']}→{shift['to']} planted {shift['date']}, "
                    f"nearest found {gap} days away")
        extra = len(shifts) - len(mix)
        yield Check("competitors", "unplanted_mix_shift", "false_flag", extra == 0,
                    f"{extra} mix shift(s) besides the planted one")
    days = (pd.Timestamp(scope.week_end) - pd.Timestamp(page.start)).days
    years = max(days / 365.25, 0.25)
    for shop, channel in traffic.get("quiet", []):
        n = int(((ev["shop"] == shop) & (ev["channel"] == channel)).sum())
        yield Check("competitors", f"quiet_channel_moved:{shop}/{channel}", "false_flag",
                    n <= max(1.0, QUIET_MOVES_PER_YEAR * years),
                    f"{n} move(s) on a quiet channel over {years:.1f} years")
    adv = page.advantages
    top = set(zip(adv["attribute"].head(5), adv["value"].head(5), strict=True))
    for a in market.truth.get("advantages", []):
        yield Check("competitors", f"advantage:{a['attribute']}={a['value']}", "signal",
                    (a["attribute"], a["value"]) in top, f"top 5 advantages: {sorted(top)}")


# -------------------------------------------------------------------------------- market

def check_market_page(market: Market, scope) -> Iterator[Check]:
    """Peak hour, leading province and city, the rising leader."""
    from research.analyses.market import study

    truth = market.truth["market"]
    page = study(scope, market.warehouse)
    hour = page.peak_hour   # from the hours alone when the audience has no weekdays
    yield Check("market", "peak_hour", "signal", hour == int(truth["peak_hour"]),
                f"page {hour}, planted {truth['peak_hour']}")
    regions = page.regions
    for level, key in (("province", "leading_province"), ("city", "leading_city")):
        if not truth.get(key):
            continue
        top = regions[(regions["level"] == level) & (regions["rank"] == 1)]["segment"].tolist()
        yield Check("market", key, "signal", top == [truth[key]],
                    f"page {top}, planted {truth[key]}")
    if truth.get("rising_leader"):
        shop = page.rising["shop"] if page.rising else None
        yield Check("market", "rising_leader", "signal", shop == truth["rising_leader"],
                    f"page {shop}, planted {truth['rising_leader']}")


# ------------------------------------------------------------------------------ forecast

def _promotion_days(windows: list[dict]) -> set[pd.Timestamp]:
    return {d for p in windows for d in pd.date_range(p["start"], p["end"])}


def check_forecast(market: Market, scope) -> Iterator[Check]:
    """A forecast made the Sunday before a planted promotion (with over a year of history
    before it) puts its highest week in the promotion's window and, for the week the data
    made the peak, anticipates at least half of the uplift the data then showed or holds the
    actual inside its widest interval.

    The promotions are tried strongest first (truth's daily ``uplift``); the first whose peak
    week the data made the horizon's highest week, at ≥ 1.2 × its quiet weeks, is checked —
    the premise is measured, not assumed. The reference is the window's week the data made
    highest (a first wave may outsell the last day). A market where no promotion qualifies
    although one was planted at full response (``response`` ≥ 1) fails as
    ``promotion_peak_premise``; one with only weak responses has nothing to find.
    """
    from research.analyses.forecast import study
    from research.analyses.forecast.outlook import weekly_shop_series
    from research.store.scope import our_sales, resolve_scope

    truth = market.truth
    start = pd.Timestamp(truth["start"])
    end = pd.Timestamp(truth["end"])
    windows = truth["promotions"]
    promo = _promotion_days(windows)
    cands = sorted((p for p in windows
                    if (pd.Timestamp(p["start"]) - start).days >= 400
                    and pd.Timestamp(p["end"]) + pd.Timedelta(days=7) <= end),
                   key=lambda p: (-float(p.get("uplift", 0.0)),
                                  -pd.Timestamp(p["start"]).value))  # strongest, latest
    actual = weekly_shop_series(our_sales(market.warehouse, scope), scope.shop)["units"]
    tried = []
    for best in cands:
        first = pd.Timestamp(best["start"])
        first_monday = first - pd.Timedelta(days=first.weekday())
        horizon = pd.date_range(first_monday, periods=9, freq="7D")
        peak_day = pd.Timestamp(best.get("peak", best["end"]))
        peak_week = peak_day - pd.Timedelta(days=peak_day.weekday())
        quiet = [w for w in horizon
                 if not any(w + pd.Timedelta(days=k) in promo for k in range(7))]
        seen = actual.reindex(horizon)
        window = pd.date_range(best["start"], best["end"])

        def in_window(week: pd.Timestamp, window: pd.DatetimeIndex = window) -> bool:
            return any(week + pd.Timedelta(days=k) in window for k in range(7))

        if peak_week not in horizon or not quiet or seen.isna().any():
            tried.append(f"{best['name']} {best['start']}: horizon not in the data")
            continue
        peak_week = seen.idxmax()       # the promotion's week the data made the highest
        actual_ratio = float(seen.loc[peak_week] / seen.reindex(quiet).median())
        if actual_ratio < 1.2 or not in_window(peak_week):
            tried.append(f"{best['name']} {best['start']}: data ×{actual_ratio:.2f}, "
                         f"highest week {peak_week:%Y-%m-%d}")
            continue
        cut = first_monday - pd.Timedelta(days=1)
        cut_scope = resolve_scope(market.warehouse, scope.category,
                                  week=iso_week(cut), shop=scope.shop,
                                  competitors=scope.competitors)
        page = study(cut_scope, market.warehouse)
        if page.outlook is None:
            yield Check("forecast", "promotion_peak", "signal", False, "no outlook computed")
            return
        fc = page.outlook.forecast
        fc = fc[fc["series"] == fc["series"].iloc[0]].set_index("date")["point"]
        fc.index = pd.to_datetime(fc.index)
        ratio = float(fc.loc[peak_week] / fc.reindex(quiet).median())
        rows = page.outlook.forecast
        row = rows[(rows["series"] == rows["series"].iloc[0])
                   & (pd.to_datetime(rows["date"]) == peak_week)].iloc[0]
        hi = max((float(row[c]) for c in rows.columns if str(c).startswith("hi")),
                 default=float("nan"))
        covered = bool(seen.loc[peak_week] <= hi)
        # found: the forecast's highest week falls in the promotion and the week the data
        # made the peak is either anticipated by at least half its uplift, or lies inside the
        # forecast's widest interval (with one earlier occurrence in the history the point
        # may fall short; the interval must then say so)
        ok = in_window(fc.idxmax()) and (
            ratio - 1 >= 0.5 * (actual_ratio - 1) or covered)
        yield Check("forecast", "promotion_peak", "signal", bool(ok),
                    f"{best['name']} peak week {peak_week:%Y-%m-%d}: forecast's highest week "
                    f"{fc.idxmax():%Y-%m-%d}, ×{ratio:.2f} the quiet weeks against ×"
                    f"{actual_ratio:.2f} in the data; actual {seen.loc[peak_week]:.0f} "
                    f"{'inside' if covered else 'above'} the widest interval's top {hi:.0f}")
        return
    strong = [p for p in cands if float(p.get("response", 1.0)) >= 1.0]
    if strong:  # a promotion planted at full response that the data never show is a bug
        yield Check("forecast", "promotion_peak_premise", "signal", False,
                    "no planted promotion made its horizon's peak in the data: "
                    + "; ".join(tried))


CHECKERS: dict[str, Callable[[Market, object], Iterator[Check]]] = {
    "keywords": check_keywords, "prices": check_prices, "competitors": check_competitors,
    "market": check_market_page, "forecast": check_forecast,
}


def check_market(market: Market, analyses: tuple[str, ...] = tuple(CHECKERS)) -> list[Check]:
    """Run each page on ``market`` as the weekly study would and compare it with the truth.

    A page that raises is recorded as one failed signal check carrying the error, so one
    broken page does not hide the others.
    """
    scope = _scope(market)
    out: list[Check] = []
    for name in analyses:
        try:
            out.extend(CHECKERS[name](market, scope))
        except Exception as exc:  # reported as a failed check with the error
            out.append(Check(name, "page_runs", "signal", False,
                             f"{type(exc).__name__}: {exc}"))
    return out


def _scope(market: Market):
    """The scope ``research run`` resolves for the market's category with its defaults."""
    from research.store.scope import resolve_scope

    return resolve_scope(market.warehouse, market.truth["category"])


def failures(checks: list[Check]) -> list[Check]:
    """Signals not found and false flags raised."""
    return [c for c in checks if not c.ok]
