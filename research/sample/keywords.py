"""Search terms of the sample market (搜索词), for :mod:`research.sample.market`.

Builds the terms of a profile's category (:mod:`research.sample.profiles`; ~330 for 保温杯:
head words, modifier terms, brand words and long tail), their daily 搜索人气 and the other
columns of the 生意参谋 search-term export, with the planted signals (recent and sustained
risers, fallers, purely seasonal terms and an off-season bait, one breakout, blue-ocean
terms).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.sample.common import END, WEEKDAY, category_season, days, demand_multiplier, sig3
from research.sample.profiles import Profile

__all__ = ["build_keywords", "CHANGE_START", "BREAKOUT_FIRST", "SUSTAINED_START"]

CHANGE_START = pd.Timestamp("2026-09-07")   # 11 weeks before the end: recent moves start
SUSTAINED_START = END - pd.Timedelta(days=364)  # a sustained move climbs for a whole year
BREAKOUT_FIRST = pd.Timestamp("2026-08-31")  # the breakout term has no rows before this
_SINGLE = ("女", "男")  # crowd words written after the head (保温杯女)


def _terms(rng: np.random.Generator, p: Profile) -> tuple[list[str], dict[str, str]]:
    """The term list and each term's kind (core/brand/modifier/long_tail/new)."""
    kinds: dict[str, str] = {}

    def add(term: str, kind: str) -> None:
        kinds.setdefault(term, kind)

    heads = list(p.heads)
    cat = p.category
    for head in heads:
        add(head, "core")
    for b in p.brands:
        add(b + cat, "brand")
    for b in p.brands[:6]:
        add(b, "brand")
    second = str(p.extra.get("brand_head2", heads[1]))
    for b in p.brands[:5]:
        add(b + second, "brand")
    mods = p.modifiers
    for kind in ("material", "size", "style", "function", "color"):
        for m in mods.get(kind, ()):
            add(m + cat, "modifier")
    for a in mods.get("crowd", ()):
        add(a + cat if a not in _SINGLE else cat + a, "modifier")
        add(a + heads[1] if a not in _SINGLE else heads[1] + a, "modifier")
    head_mods = p.extra.get("head_modifiers")
    if head_mods is None:
        pool = [*mods.get("material", ()), *mods.get("function", ())]
        head_mods = {h: tuple(pool[i] for i in rng.choice(len(pool), min(4, len(pool)),
                                                          replace=False))
                     for h in heads[2:4]}
    for head, words in dict(head_mods).items():
        for m in words:
            add(m + head, "modifier")
    planted = p.planted
    for role in ("rising", "falling", "blue_ocean", "seasonal_only"):
        for t in planted[role]:
            add(t, "long_tail")
    # long tail: two modifiers of different kinds around a head word
    pools = [list(mods[k]) for k in ("material", "size", "crowd", "style", "function")
             if mods.get(k)]
    tail_heads = list(p.extra.get("tail_heads", (cat, cat, cat, *heads[1:4])))
    n_tail = 0
    tries = 0
    while n_tail < p.n_tail and tries < 50 * p.n_tail:
        tries += 1
        i, j = rng.choice(len(pools), 2, replace=False)
        a, b = pools[i][rng.integers(len(pools[i]))], pools[j][rng.integers(len(pools[j]))]
        head = tail_heads[rng.integers(len(tail_heads))]
        pattern = rng.integers(3)
        term = (a + head + b if pattern == 0 else a + b + head if pattern == 1
                else head + a + b)
        if term not in kinds and planted["breakout"] not in term:
            add(term, "long_tail")
            n_tail += 1
    add(str(planted["breakout"]), "new")
    return list(kinds), kinds


def build_keywords(rng: np.random.Generator, category: str, profile: Profile
                   ) -> tuple[pd.DataFrame, dict]:
    """Daily rows of every term (numbers, not yet formatted) and the keyword truth.

    Every term's planted curve is ``level × season × trend × promotions × weekday ×
    planted move``; the exported 搜索人气 is that curve times log-normal noise, bucketed to
    three significant digits. Recent movers ramp (log-linearly) from ``CHANGE_START`` to
    ``rising_factor``/``falling_factor`` × their seasonal level at the end; a sustained mover
    climbs log-linearly for the last 364 days to ``sustained_factor`` × (so its level at the
    end is that factor times its level a year earlier, season aside).

    Returns
    -------
    (DataFrame, dict)
        Columns date, keyword, search_popularity, search_heat, click_rate, click_popularity,
        conversion_rate, online_items, tmall_click_share, ppc_price (floats; formatting is
        the writer's job), sorted by date and popularity; and ``truth["keywords"]``.
    """
    p = profile
    planted = p.planted
    terms, kinds = _terms(rng, p)
    n = len(terms)
    idx = days()
    nd = len(idx)
    kind = np.array([kinds[t] for t in terms])
    # base level (mean daily 搜索人气 away from the season's extremes)
    level = np.where(kind == "long_tail", np.exp(rng.normal(np.log(700), 0.7, n)),
                     np.where(kind == "modifier", np.exp(rng.normal(np.log(2200), 0.7, n)),
                              np.exp(rng.normal(np.log(2500), 0.8, n))))
    for i, t in enumerate(terms):
        if t in p.heads:
            level[i] = p.heads[t]
    levels = p.extra.get("planted_levels")
    if levels is None:
        roles = {"rising": (1800, 3500), "falling": (1500, 3000), "blue_ocean": (6500, 9000)}
        levels = {t: float(rng.uniform(*span)) for role, span in roles.items()
                  for t in planted[role] if t not in p.heads}
    for t, v in dict(levels).items():
        level[terms.index(t)] = v
    level = np.clip(level * p.volume, 180, None)
    amp = rng.uniform(0.15, 0.4, n)
    peak = np.full(n, p.season_peak)
    trend = rng.uniform(-0.08, 0.12, n)  # log growth per year, steady (no change points)
    seasonal = [terms.index(t) for t in planted["seasonal_only"]]
    own = p.extra.get("seasonal_amps")
    seasonal_amp = (np.asarray(own, dtype=float) if own is not None
                    else rng.uniform(0.5, 0.8, len(seasonal)))
    seasonal_amp = seasonal_amp * max(1.0, p.season_scale * 0.6)
    bait = str(planted["bait"])
    peaks = dict(p.extra.get("seasonal_peaks", {}))
    peaks.setdefault(bait, (p.season_peak + 182.6) % 365.25)
    for t, d in peaks.items():
        if t in terms:
            peak[terms.index(t)] = d
    years = np.asarray((idx - idx[0]).days, dtype=float) / 365.25
    # the category's own season (scaled amplitudes), except the purely seasonal terms
    seas = category_season(p, idx, amp) if p.season_scale != 1.0 or p.food_peak else None
    doy = np.asarray(idx.day_of_year, float)[None, :]
    base_seas = np.exp(amp[:, None] * np.cos(2 * np.pi * (doy - peak[:, None]) / 365.25))
    if seas is None:
        seas = base_seas
    else:
        off = peak != p.season_peak
        seas[off] = base_seas[off]
    amp[seasonal] = seasonal_amp
    trend[seasonal] = 0.0
    for i in seasonal:
        seas[i] = np.exp(amp[i] * np.cos(2 * np.pi * (doy[0] - peak[i]) / 365.25))
    promo = demand_multiplier(idx, p.promo_response)
    week = WEEKDAY[idx.day_of_week]
    sigma = 0.05 + 0.6 / np.sqrt(level)
    noise = np.exp(rng.normal(0.0, 1.0, (n, nd)) * sigma[:, None])
    clean = level[:, None] * seas * np.exp(trend[:, None] * years[None, :]) * promo[None, :] \
        * week[None, :]
    # planted changes against the season: recent ones from CHANGE_START, sustained ones for
    # the last 364 days
    ramp = np.clip((idx - CHANGE_START).days / max((END - CHANGE_START).days, 1), 0, 1)
    long_ramp = np.clip((idx - SUSTAINED_START).days / 364.0, 0, 1)
    sustained = list(planted["sustained"])
    for t in planted["rising"]:
        clean[terms.index(t)] *= (p.sustained_factor ** long_ramp if t in sustained
                                  else p.rising_factor ** ramp)
    for t in planted["falling"]:
        clean[terms.index(t)] *= p.falling_factor ** ramp
    # the breakout: absent before BREAKOUT_FIRST, then steep growth (×~100 in 12 weeks)
    b = terms.index(str(planted["breakout"]))
    since = np.asarray((idx - BREAKOUT_FIRST).days, dtype=float)
    clean[b] = np.where(since >= 0, 150.0 * np.exp(0.056 * np.clip(since, 0, None))
                        * week * promo, np.nan)
    pop = clean * noise
    popularity = np.where(np.isnan(pop), np.nan, sig3(np.nan_to_num(pop, nan=1.0)))

    blue = np.isin(terms, list(planted["blue_ocean"]))
    ctr = rng.uniform(0.35, 0.9, n)
    cvr = np.exp(rng.normal(np.log(0.06), 0.35, n)).clip(0.015, 0.13)
    cvr[blue] = rng.uniform(0.18, 0.24, blue.sum())
    supply_ratio = np.exp(rng.uniform(np.log(10), np.log(45), n))
    supply_ratio[blue] = rng.uniform(0.25, 0.6, blue.sum())
    tmall = rng.uniform(0.3, 0.7, n)
    tmall[blue] = rng.uniform(0.08, 0.15, blue.sum())
    ppc = np.exp(rng.normal(np.log(1.4), 0.35, n)).clip(0.4, 4.5)
    heat_ratio = rng.uniform(1.5, 2.4, n)

    shape = (n, nd)
    online_drift = np.exp(np.cumsum(rng.normal(0.0004, 0.004, shape), axis=1))
    online = np.round(level[:, None] * supply_ratio[:, None] * online_drift).astype(np.int64)
    online[b] = np.round(np.clip(since, 0, None) * 600 + 2000).astype(np.int64)  # sellers pile in
    click_rate = np.clip(ctr[:, None] * np.exp(rng.normal(0, 0.04, shape)), 0.05, 0.99)
    promo_cvr = np.where(promo > 1.3, 1.3, 1.0)
    conv = np.clip(cvr[:, None] * promo_cvr[None, :] * np.exp(rng.normal(0, 0.08, shape)),
                   0.002, 0.6)
    heat = sig3(np.nan_to_num(pop, nan=1.0) * heat_ratio[:, None]
                * np.exp(rng.normal(0, 0.03, shape)))
    clicks = sig3(np.nan_to_num(pop, nan=1.0) * click_rate ** 0.9)
    share = np.clip(tmall[:, None] * np.exp(rng.normal(0, 0.05, shape)), 0.01, 0.95)
    price = np.round(ppc[:, None] * np.where(promo > 1.3, 1.3, 1.0)[None, :]
                     * np.exp(rng.normal(0, 0.05, shape)), 2)

    present = ~np.isnan(popularity)
    ti, di = np.nonzero(present)
    frame = pd.DataFrame({
        "date": idx[di], "keyword": np.asarray(terms, dtype=object)[ti],
        "search_popularity": popularity[ti, di].astype(np.int64),
        "search_heat": heat[ti, di], "click_rate": click_rate[ti, di],
        "click_popularity": clicks[ti, di], "conversion_rate": conv[ti, di],
        "online_items": online[ti, di], "tmall_click_share": share[ti, di],
        "ppc_price": price[ti, di], "term_kind": kind[ti],
    })
    frame = frame.sort_values(["date", "search_popularity", "keyword"],
                              ascending=[True, False, True], ignore_index=True)
    term = str(planted["breakout"])
    truth = {
        "rising": list(planted["rising"]), "falling": list(planted["falling"]),
        "rising_sustained": sustained,
        "rising_recent": [t for t in planted["rising"] if t not in sustained],
        "seasonal_only": list(planted["seasonal_only"]),
        "bait": {"term": bait, "peak_doy": round(float(peaks[bait]), 1),
                 "category_peak_doy": round(float(p.season_peak), 1)},
        "breakout": {"term": term,
                     "first_date": BREAKOUT_FIRST.date().isoformat(),
                     "breakout_week": _breakout_week(idx, clean, b)},
        "change_start": CHANGE_START.date().isoformat(),
        "sustained_start": SUSTAINED_START.date().isoformat(),
        "blue_ocean": list(planted["blue_ocean"]),
        "rising_factor": round(p.rising_factor, 3), "falling_factor": round(p.falling_factor, 3),
        "sustained_factor": round(p.sustained_factor, 3),
        "terms": n, "category": category,
    }
    return frame, truth


def _breakout_week(idx: pd.DatetimeIndex, clean: np.ndarray, b: int) -> str:
    """The ISO week the breakout term's planted (noise-free) mean daily 搜索人气 first reaches
    the median, over the other terms, of their planted mean daily 搜索人气 in the panel's last
    four ISO weeks — a deterministic function of the generator's parameters, computed from
    the planted curves before noise and bucketing (no analysis rule is run)."""
    iso = idx.isocalendar()
    label = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).to_numpy()
    weeks = list(dict.fromkeys(label))
    cols = []
    for w in weeks:
        part = clean[:, label == w]
        seen = np.isfinite(part)
        total = np.where(seen, part, 0.0).sum(axis=1)
        count = seen.sum(axis=1)
        cols.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    weekly = np.stack(cols, axis=1)
    others = np.delete(weekly, b, axis=0)
    bar = float(np.median(others[:, -4:].mean(axis=1)))
    series = weekly[b]
    hit = [w for w, v in zip(weeks, series, strict=True) if np.isfinite(v) and v >= bar]
    return hit[0] if hit else ""
