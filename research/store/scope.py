"""The study scope: what one weekly study is about, resolved once and checked.

A :class:`Scope` — category, study week (ISO week and its dates), our shop, the competitor
set with the rule that chose it, currency and the data window — is resolved by
:func:`resolve_scope` before any notebook runs (``research run``), written to
``manifest.json`` and handed to every notebook as its ``scope`` parameter
(:meth:`Scope.to_dict` / :meth:`Scope.from_dict`). No page re-derives any part of it.

A notebook run on its own (JupyterLab, nbval) resolves the same scope from its default
parameters with the same function (:func:`scope_from_parameters`), so both paths give one
answer.

The rules
---------
- **Category** must be held by the warehouse (``keywords``, ``items``, ``market_daily``,
  ``audience`` or the ``sales`` ``category`` column).
- **Week**: the given ISO week, else the last complete ISO week of the category's data (the
  latest date of ``keywords``, ``market_daily`` and ``items`` of the category and of our
  sales tied to it). A week that ends before the data starts or after it ends is refused
  with the data's range. A week inside the data whose tables do not all cover it (e.g.
  ``traffic`` ends before the week's Sunday, the latest ``items`` snapshot is over a month
  old, a table holds no rows of the category) is *not* refused: the pages can still say
  something, and refusing would block every default run whenever one export lags. Each
  short table is named in :attr:`Scope.warnings`, which the report and pages show.
- **Our shop**: the given one (it must appear in ``sales``, ``items`` or ``traffic``), else
  the shop with most ``sales`` rows tied to the category (see below; with none tied, the
  shop with most rows); ``""`` when the warehouse holds no sales or the sales
  rows name no shop (then every sales row is ours). :attr:`Scope.shop_rule` says which.
- **Our sales of the category** (:func:`our_sales`): our rows whose ``category`` is the
  category where the sales export has that column filled, else our rows whose ``item_id``
  is listed in ``items`` of the category. When none can be tied, :func:`our_sales` is
  empty and :attr:`Scope.sales_basis` says so — the plan then says so instead of forecasting
  the whole shop.
- **Competitors** — one rule for the whole study: the named ones (each must appear in
  ``items`` of the category or in ``traffic``); otherwise the shops our ``traffic`` export
  monitors (生意参谋 only reports the traffic of the competitors a shop has chosen to
  watch, so these are the operator's own competitor list) — those listed in the category's
  latest ``items`` snapshot when it has one — ranked by their 30-day revenue (``revenue_30d``,
  else price × ``sales_30d``) on that snapshot, then by Σ daily visitors, the first
  ``top_n``. When no monitored shop lists in the category (or there is no traffic), the
  ``top_n`` shops other than ours by 30-day revenue on the latest snapshot; with no items
  either, the ``top_n`` by Σ daily visitors in ``traffic``. Everything up to the week's
  Sunday.
- **Currency**: the given one, else the category's ``items``/our ``sales`` ``currency``
  value, else ``CNY``.

Every problem is collected and raised at once as :class:`ScopeError`, each naming what the
warehouse holds and the nearest match (:func:`nearest`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from research.config import default_warehouse
from research.store.schema import TABLES
from research.store.warehouse import fetch_one, has_table, open_read
from research.weeks import last_complete_week, parse_week, week_bounds

__all__ = ["Scope", "ScopeError", "resolve_scope", "our_sales", "scope_from_parameters",
           "nearest", "split_names"]

#: items snapshots older than this many days before the week's Sunday are called short
STALE_SNAPSHOT_DAYS = 31


class ScopeError(ValueError):
    """The scope was refused; the message lists every problem with the nearest valid names."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("研究范围不成立 · scope refused:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True)
class Scope:
    """One study's scope, resolved and checked against the warehouse.

    Attributes
    ----------
    category : str
        The category studied, as stored in the warehouse.
    week : str
        ISO week, ``"2026-W47"``.
    week_start, week_end : str
        Its Monday and Sunday, ``YYYY-MM-DD``; no page reads data after ``week_end``.
    week_rule : str
        How the week was chosen, in words.
    shop : str
        Our shop ("" when the warehouse holds none of our sales).
    shop_rule : str
        How our shop was chosen, in words.
    competitors : tuple of str
        The competitor set, the same on every page.
    competitor_rule : str
        How the competitor set was chosen, in words (stated on every page and in plan.xlsx).
    currency : str
        Currency of prices and money.
    data_start, data_end : str
        First and last date of the category's data up to ``week_end``.
    sales_basis : str
        How our sales are tied to the category, in words; says so when none can be.
    our_items : tuple of str
        Our item ids in the category (what :func:`our_sales` keeps when sales carry no
        category column).
    warnings : tuple of str
        Tables that do not cover the week (stated, not refused; see the module docstring).
    """

    category: str
    week: str
    week_start: str
    week_end: str
    week_rule: str
    shop: str
    shop_rule: str
    competitors: tuple[str, ...]
    competitor_rule: str
    currency: str
    data_start: str
    data_end: str
    sales_basis: str = ""
    our_items: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples as lists), for papermill and ``manifest.json``."""
        out = asdict(self)
        for key in ("competitors", "our_items", "warnings"):
            out[key] = list(getattr(self, key))
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Scope:
        """The scope :meth:`to_dict` wrote (keys it does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in dict(values).items() if k in known}
        for key in ("competitors", "our_items", "warnings"):
            data[key] = tuple(str(v) for v in (data.get(key) or ()))
        return cls(**data)


# ---------------------------------------------------------------------------- messages

def nearest(name: str, held: Iterable[str], n: int = 3) -> list[str]:
    """The held names closest to ``name`` (difflib), best first; a containing name counts.

    Examples
    --------
    >>> nearest("保温瓶", ["保温杯", "茶具"])
    ['保温杯']
    >>> nearest("杯乐多旗舰", ["杯乐多旗舰店", "暖杯记旗舰店", "小熊杯杯的店"])[0]
    '杯乐多旗舰店'
    """
    pool = sorted({str(h) for h in held if h is not None and str(h) != ""})
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(name)
    scored = []
    for held_name in pool:
        matcher.set_seq1(held_name)
        if matcher.real_quick_ratio() >= 0.5 and matcher.quick_ratio() >= 0.5 \
                and matcher.ratio() >= 0.5:
            scored.append((-matcher.ratio(), held_name))
    found = [h for _, h in sorted(scored)[:n]]  # best first, ties in name order
    low = name.lower()
    if low:
        found += [h for h in pool if (low in h.lower() or h.lower() in low) and h not in found]
    return found[:n]


def _holdings(held: Sequence[str], first: Sequence[str] = (), limit: int = 12) -> str:
    names = list(dict.fromkeys([*first, *sorted(held)]))
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", … ({len(names):,} in all)"


def _unknown(kind_zh: str, kind_en: str, name: str, held: Sequence[str], where: str) -> str:
    close = nearest(name, held)
    hint = f" — did you mean {' / '.join(close)}?" if close else ""
    holds = _holdings(held, close) if held else "nothing"
    return f"未知{kind_zh} '{name}'{hint} ({where} holds {kind_en}: {holds})"


# ---------------------------------------------------------------------------- reading

def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    if not has_table(con, table):
        return set()
    return {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()}


def _distinct(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
              ) -> list[str]:
    return [str(r[0]) for r in con.execute(sql, params or []).fetchall()
            if r[0] is not None and str(r[0]) != ""]


def _day(value: Any) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).normalize()


def _iso(day: pd.Timestamp | None) -> str:
    return "" if day is None else f"{day:%Y-%m-%d}"


def split_names(values: str | Sequence[Any] | None) -> list[str]:
    """Names from a list or a comma-separated string (``,``, ``，`` or ``、``), stripped.

    Examples
    --------
    >>> split_names("杯乐多旗舰店，简物生活旗舰店、 A")
    ['杯乐多旗舰店', '简物生活旗舰店', 'A']
    >>> split_names(None), split_names(["x ", ""])
    ([], ['x'])
    """
    if values is None:
        return []
    if isinstance(values, str):
        return [v.strip() for v in re.split(r"[,，、]", values) if v.strip()]
    return [str(v).strip() for v in values if str(v).strip()]


@dataclass
class _Sales:
    """Our sales tied to the category: the SQL condition and what it rests on."""

    where: str
    params: list[Any]
    basis: str
    our_items: tuple[str, ...]
    by_column: int
    by_items: int


def _tie_sales(con: duckdb.DuckDBPyConnection, category: str, shop: str,
               shop_filter: bool, has_cat: bool) -> _Sales:
    """How our sales rows are tied to ``category`` (no date limit)."""
    mine = "shop = ?" if shop_filter else "TRUE"
    mine_args: list[Any] = [shop] if shop_filter else []
    cat_filled = "(category IS NOT NULL AND category <> '')" if has_cat else "FALSE"
    by_column = int(fetch_one(con, f"SELECT count(*) FROM sales WHERE {mine} AND {cat_filled} "
                                   f"AND category = ?", [*mine_args, category])[0]) \
        if has_cat else 0
    listed = "item_id IN (SELECT DISTINCT item_id FROM items WHERE category = ?)"
    by_items = int(fetch_one(con, f"SELECT count(*) FROM sales WHERE {mine} AND NOT "
                                  f"{cat_filled} AND {listed}", [*mine_args, category])[0]) \
        if has_table(con, "items") else 0
    where_items = f"(NOT {cat_filled} AND {listed})" if has_table(con, "items") else "FALSE"
    where_col = f"({cat_filled} AND category = ?)" if has_cat else "FALSE"
    where = f"{mine} AND ({where_col} OR {where_items})"
    params = [*mine_args, *([category] if has_cat else []),
              *([category] if has_table(con, "items") else [])]
    items = tuple(sorted(_distinct(con, f"SELECT DISTINCT item_id FROM sales WHERE {where}",
                                   params)))
    parts = []
    if by_column:
        parts.append(("按销售表类目列", f"{by_column:,} 行", "by the sales category column",
                      f"{by_column:,} rows"))
    if by_items:
        parts.append(("按商品表中本类目的我店商品", f"{by_items:,} 行，{len(items):,} 个商品",
                      "by our item ids listed in items of the category",
                      f"{by_items:,} rows"))
    if parts:
        basis = ("；".join(f"{zh}（{n}）" for zh, n, _, _ in parts) + " · "
                 + "; ".join(f"{en} ({n})" for _, _, en, n in parts))
    elif shop_filter and not fetch_one(con, "SELECT count(*) FROM sales WHERE shop = ?",
                                       [shop])[0]:
        basis = (f"销售表没有店铺「{shop}」的行，不做我店预测 · the sales hold no rows of the "
                 f"shop {shop!r}: no forecast of our shop")
    else:
        why_zh = "销售表没有类目列" if not has_cat else "销售表类目列没有本类目"
        basis = (f"我店销售无法归入类目「{category}」（{why_zh}，商品表中也没有我店商品），"
                 f"不做我店预测 · none of our sales can be tied to the category "
                 f"{category!r} (no category value and none of our item ids listed in its "
                 f"items): no forecast of our shop")
    return _Sales(where, params, basis, items, by_column, by_items)


# ---------------------------------------------------------------------------- resolution

def resolve_scope(warehouse: str | os.PathLike[str], category: str, week: str = "",
                  shop: str = "", competitors: str | Sequence[str] = (),
                  top_n: int = 5, currency: str = "") -> Scope:
    """Resolve and check a study's scope against the warehouse (rules: module docstring).

    Parameters
    ----------
    warehouse : path-like
        The DuckDB file; empty: :func:`research.config.default_warehouse`.
    category : str
        The category to study, exactly as the warehouse holds it.
    week : str
        ISO week (``2026-W47``); empty: the last complete week of the category's data.
    shop : str
        Our shop; empty: the shop with most ``sales`` rows of the category.
    competitors : sequence of str, or a comma-separated str
        Named competitors; empty: the study's competitor rule with ``top_n``.
    top_n : int
        How many competitors the rule takes (≥ 1).
    currency : str
        Currency; empty: the data's ``currency`` value, else CNY.

    Returns
    -------
    Scope

    Raises
    ------
    ScopeError
        Listing every problem (unknown names with the nearest held ones, a week outside the
        data with its range, a malformed week).
    """
    path = Path(str(warehouse)).expanduser() if str(warehouse or "") else default_warehouse()
    if not path.exists():
        raise ScopeError([f"仓库不存在 · warehouse {path} does not exist: load exports with "
                          f"`research ingest PATH` (or `make demo` for the sample market)"])
    with open_read(path) as con:
        return _resolve(con, str(category or "").strip(), str(week or "").strip(),
                        str(shop or "").strip(), split_names(competitors), top_n,
                        str(currency or "").strip())


def _resolve(con: duckdb.DuckDBPyConnection, category: str, week: str, shop: str,
             named: list[str], top_n: int, currency: str) -> Scope:
    problems: list[str] = []
    present = {t for t in ("keywords", "items", "traffic", "sales", "market_daily", "audience")
               if has_table(con, t)}
    sales_cols = _columns(con, "sales")
    has_cat = "category" in sales_cols

    # category
    cats: set[str] = set()
    for t in ("keywords", "items", "market_daily", "audience"):
        if t in present:
            cats.update(_distinct(con, f'SELECT DISTINCT category FROM "{t}"'))
    if has_cat:
        cats.update(_distinct(con, "SELECT DISTINCT category FROM sales"))
    if not category:
        problems.append(f"没有类目 · no category given (warehouse holds: "
                        f"{_holdings(sorted(cats)) or 'nothing'})")
    elif category not in cats:
        problems.append(_unknown("类目", "categories", category, sorted(cats), "warehouse"))
    known_category = bool(category) and category in cats

    # our shop
    sales_rows = int(fetch_one(con, "SELECT count(*) FROM sales")[0]) if "sales" in present else 0
    # shops of our sales, those with most rows tied to the category first
    cat_filled = "(category IS NOT NULL AND category <> '')" if has_cat else "FALSE"
    tied_sql, tied_args = [], []
    if has_cat:
        tied_sql.append(f"({cat_filled} AND category = ?)")
        tied_args.append(category)
    if "items" in present:
        tied_sql.append(f"(NOT {cat_filled} AND item_id IN "
                        f"(SELECT DISTINCT item_id FROM items WHERE category = ?))")
        tied_args.append(category)
    tied = " OR ".join(tied_sql) or "FALSE"
    sales_shops = [(r[0], int(r[1]), int(r[2])) for r in con.execute(
        f"SELECT shop, count(*) AS n, count(*) FILTER (WHERE {tied}) AS tied FROM sales "
        f"WHERE shop IS NOT NULL AND shop <> '' GROUP BY shop ORDER BY tied DESC, n DESC, shop",
        tied_args).fetchall()] if sales_rows else []
    if shop:
        held = {str(r[0]) for r in sales_shops}
        for t in ("items", "traffic"):
            if t in present:
                held.update(_distinct(con, f'SELECT DISTINCT shop FROM "{t}"'))
        if shop not in held:
            problems.append(_unknown("店铺", "shops", shop, sorted(held),
                                     "sales/items/traffic"))
        shop_rule = "指定 · given"
    elif sales_shops:
        shop = str(sales_shops[0][0])
        if sales_shops[0][2]:
            shop_rule = (f"销售表中本类目行数最多的店铺（{sales_shops[0][2]:,} 行） · the shop "
                         f"with most rows of the category in our sales")
        else:
            shop_rule = (f"销售表中行数最多的店铺（{sales_shops[0][1]:,} 行） · the shop with "
                         f"most rows in our sales")
        if len(sales_shops) > 1:
            shop_rule += f" (of {len(sales_shops)} shops in sales)"
    elif sales_rows:
        shop_rule = ("销售表未写店铺名，全部销售视为我店 · the sales rows name no shop: all of "
                     "them are ours")
    else:
        shop_rule = "仓库没有我店销售数据 · the warehouse holds no sales of ours"
    # filter sales by shop only when the sales rows name shops at all
    shop_filter = bool(shop) and bool(sales_shops)

    # top_n
    try:
        top_n = int(top_n)
    except (TypeError, ValueError):
        problems.append(f"top_n {top_n!r} 不是整数 · is not a whole number")
        top_n = 5
    if top_n < 1 and not named:
        problems.append(f"top_n {top_n} 必须 ≥ 1 · must be at least 1")

    # week syntax
    week_given = bool(week)
    if week:
        try:
            year, num = parse_week(week)
            week = f"{year}-W{num:02d}"
        except ValueError as exc:
            problems.append(f"周不成立 · {exc}")
            week = ""
            week_given = False
            bad_week = True
        else:
            bad_week = False
    else:
        bad_week = False

    # named competitors: checked against the category's items and traffic
    if named:
        held_c: set[str] = set()
        if "items" in present:
            held_c.update(_distinct(
                con, "SELECT DISTINCT shop FROM items WHERE category = ?" if known_category
                else "SELECT DISTINCT shop FROM items", [category] if known_category else []))
        if "traffic" in present:
            held_c.update(_distinct(con, "SELECT DISTINCT shop FROM traffic"))
        where = f"items of {category}/traffic" if known_category else "items/traffic"
        for name in named:
            if name not in held_c:
                problems.append(_unknown("竞品", "shops", name, sorted(held_c - {shop}), where))
            elif shop and name == shop:
                problems.append(f"竞品 '{name}' 是我店 · competitor '{name}' is our own shop")
        if len(set(named)) != len(named):
            named = list(dict.fromkeys(named))

    if not known_category:
        raise ScopeError(problems)

    # our sales of the category, its window and the category's tables' windows
    tie = _tie_sales(con, category, shop, shop_filter, has_cat) if sales_rows else None
    spans: dict[str, tuple[pd.Timestamp | None, pd.Timestamp | None]] = {}
    for t, col in (("keywords", "date"), ("market_daily", "date"), ("items", "snapshot_date")):
        if t in present:
            lo, hi = fetch_one(con, f'SELECT min("{col}"), max("{col}") FROM "{t}" '
                                    f'WHERE category = ?', [category])
            spans[t] = (_day(lo), _day(hi))
    if tie is not None:
        lo, hi = fetch_one(con, f"SELECT min(date), max(date) FROM sales WHERE {tie.where}",
                           tie.params)
        spans["sales"] = (_day(lo), _day(hi))
    held_spans = {t: s for t, s in spans.items() if s[1] is not None}
    if not held_spans:
        problems.append(f"类目 '{category}' 没有任何带日期的数据 · category {category!r} has no "
                        f"dated rows in keywords, market_daily, items or our sales")
        raise ScopeError(problems)
    first = min(s[0] for s in held_spans.values() if s[0] is not None)
    last = max(s[1] for s in held_spans.values() if s[1] is not None)
    data_range = f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"

    if week_given:
        monday, sunday = week_bounds(week)
        week_rule = "指定 · given"
        if sunday < first:
            problems.append(f"周 {week}（{monday:%Y-%m-%d} – {sunday:%Y-%m-%d}）在数据开始之前 · "
                            f"week {week} ends before the data starts: category {category!r} "
                            f"has data {data_range}")
        elif sunday > last:
            problems.append(f"周 {week}（{monday:%Y-%m-%d} – {sunday:%Y-%m-%d}）在数据结束之后，"
                            f"不完整 · week {week} ends after the data ends: category "
                            f"{category!r} has data {data_range}")
    elif bad_week:
        monday = sunday = last
        week_rule = ""
    else:
        week = last_complete_week([last])
        monday, sunday = week_bounds(week)
        week_rule = (f"数据中最后一个完整ISO周（最新日期 {last:%Y-%m-%d}） · last complete ISO "
                     f"week in the category's data (latest date {last:%Y-%m-%d})")
        if sunday < first:
            problems.append(f"类目 '{category}' 的数据（{data_range}）不足一个完整ISO周 · "
                            f"the category's data ({data_range}) hold no complete ISO week")
    if problems:
        raise ScopeError(problems)

    # competitors, one rule
    if named:
        competitors = tuple(named)
        competitor_rule = f"指定竞品（{len(named)}家） · named competitors ({len(named)})"
    else:
        competitors, competitor_rule = _competitor_rule(con, present, category, shop, top_n,
                                                        sunday)

    # currency
    if currency:
        currency_rule = currency
    else:
        found = []
        if "items" in present and "currency" in _columns(con, "items"):
            found = _distinct(con, "SELECT currency FROM items WHERE category = ? AND "
                                   "currency IS NOT NULL AND currency <> '' GROUP BY currency "
                                   "ORDER BY count(*) DESC LIMIT 1", [category])
        if not found and tie is not None and "currency" in sales_cols:
            found = _distinct(con, f"SELECT currency FROM sales WHERE {tie.where} AND currency "
                                   f"IS NOT NULL AND currency <> '' GROUP BY currency ORDER BY "
                                   f"count(*) DESC LIMIT 1", tie.params)
        currency_rule = found[0] if found else "CNY"

    # per-table coverage of the week: stated, not refused
    warnings = _coverage(con, present, category, shop, competitors, spans, monday, sunday)
    our_items: tuple[str, ...] = ()
    if tie is None:
        sales_basis = shop_rule
    else:
        sales_basis, our_items = tie.basis, tie.our_items
        if not tie.by_column and not tie.by_items:
            warnings.append(sales_basis)
    in_week = [(lo, hi) for lo, hi in held_spans.values()
               if lo is not None and hi is not None and lo <= sunday]
    data_start = min(lo for lo, _ in in_week)
    data_end = min(max(hi for _, hi in in_week), sunday)
    return Scope(category=category, week=week, week_start=_iso(monday), week_end=_iso(sunday),
                 week_rule=week_rule, shop=shop, shop_rule=shop_rule,
                 competitors=tuple(competitors), competitor_rule=competitor_rule,
                 currency=currency_rule, data_start=_iso(data_start), data_end=_iso(data_end),
                 sales_basis=sales_basis, our_items=our_items, warnings=tuple(warnings))


def _competitor_rule(con: duckdb.DuckDBPyConnection, present: set[str], category: str,
                     shop: str, top_n: int, sunday: pd.Timestamp
                     ) -> tuple[tuple[str, ...], str]:
    """The study's competitor set when none is named (the rule is in the module docstring)."""
    snap = fetch_one(con, "SELECT max(snapshot_date) FROM items WHERE category = ? AND "
                          "snapshot_date <= ?", [category, sunday.date()])[0] \
        if "items" in present else None
    monitored: list[tuple[str, float]] = []
    if "traffic" in present:
        # shop-level rows where a shop has them, else its item-level rows (no double count)
        monitored = [(str(r[0]), float(r[1] or 0)) for r in con.execute(
            """WITH t AS (SELECT shop, coalesce(item_id, '') = '' AS shop_level, visitors
                          FROM traffic WHERE date <= ? AND shop IS NOT NULL AND shop <> ?),
                    lvl AS (SELECT shop, bool_or(shop_level) AS has_shop FROM t GROUP BY shop)
               SELECT t.shop, sum(t.visitors) AS v FROM t JOIN lvl USING (shop)
               WHERE t.shop_level = lvl.has_shop GROUP BY t.shop""",
            [sunday.date(), shop]).fetchall()]
    revenue: dict[str, float] = {}
    if snap is not None:
        revenue = {str(r[0]): float(r[1] or 0) for r in con.execute(
            "SELECT shop, sum(coalesce(revenue_30d, price * sales_30d)) FROM items "
            "WHERE category = ? AND snapshot_date = ? AND shop IS NOT NULL AND shop <> ? "
            "GROUP BY shop", [category, snap, shop]).fetchall()}
    day = _iso(_day(snap)) if snap is not None else ""
    if snap is None and monitored:
        # the category has no listings at all: the monitored shops, by their visitors
        visitors = dict(monitored)
        names = tuple(sorted(visitors, key=lambda s: (-visitors[s], s))[:top_n])
        rule = (f"流量表监控的竞品{len(visitors)}家（类目无商品快照），按日访客数合计取前{top_n}名 · "
                f"the top {top_n} of the {len(visitors)} shops our traffic export monitors, by "
                f"summed daily visitors (the category has no items rows)")
        return names, rule + _fewer(len(names), top_n, "监控店铺中", "among them")
    pool = [s for s, _ in monitored if s in revenue]
    if pool:
        visitors = dict(monitored)
        ranked = sorted(pool, key=lambda s: (-revenue[s], -visitors[s], s))
        names = tuple(ranked[:top_n])
        rule = (f"流量表监控的竞品中在本类目有商品的{len(pool)}家，按最近一期商品快照（{day}）30天"
                f"销售额取前{top_n}名 · the top {top_n} of the {len(pool)} shops our traffic "
                f"export monitors that list in the category, by 30-day revenue on the latest "
                f"items snapshot ({day})")
        return names, rule + _fewer(len(names), top_n, "监控店铺中", "among them")
    if snap is not None:
        # listings exist; no monitored shop is among them: the snapshot's top sellers (none
        # when only we list in the category — never shops that do not sell in it)
        names = tuple(sorted(revenue, key=lambda s: (-revenue[s], s))[:top_n])
        rule = (f"类目内最近一期商品快照（{day}）30天销售额前{top_n}名（我店除外） · top "
                f"{top_n} shops by 30-day revenue on the latest items snapshot ({day})")
        if monitored:
            rule += ("；流量表监控的店铺都不在本类目上架 · none of the shops the traffic export "
                     "monitors lists in the category")
        return names, rule + _fewer(len(names), top_n, "快照中", "on the snapshot")
    return (), ("无竞品：类目没有商品快照，也没有流量数据 · no competitors: the category has no "
                "items rows and the warehouse no traffic rows up to the week's Sunday")


def _fewer(found: int, top_n: int, where_zh: str, where_en: str) -> str:
    """The rule's note when fewer shops than ``top_n`` are there to take."""
    if found >= top_n:
        return ""
    if found == 0:
        return f"；{where_zh}没有我店以外的店铺 · no shop other than ours {where_en}"
    return f"；{where_zh}只有{found}家 · only {found} shop(s) other than ours {where_en}"


def _coverage(con: duckdb.DuckDBPyConnection, present: set[str], category: str, shop: str,
              competitors: Sequence[str], spans: dict[str, tuple[Any, Any]],
              monday: pd.Timestamp, sunday: pd.Timestamp) -> list[str]:
    """Sentences naming each table that does not cover the study week."""
    out: list[str] = []
    spans = dict(spans)
    shops = [s for s in (shop, *competitors) if s]
    if "traffic" in present and shops:
        lo, hi = fetch_one(con, f"SELECT min(date), max(date) FROM traffic WHERE shop IN "
                                f"({', '.join('?' for _ in shops)})", shops)
        spans["traffic"] = (_day(lo), _day(hi))
    for t, (lo, hi) in spans.items():
        if t == "items":
            latest = fetch_one(con, "SELECT max(snapshot_date) FROM items WHERE category = ? "
                                    "AND snapshot_date <= ?", [category, sunday.date()])[0]
            day = _day(latest)
            if day is None:
                out.append(f"items：本周日 {sunday:%Y-%m-%d} 前没有本类目商品快照 · items: no "
                           f"snapshot of the category up to the week's Sunday")
            elif (sunday - day).days > STALE_SNAPSHOT_DAYS:
                out.append(f"items：最近一期快照 {day:%Y-%m-%d}，比本周日早 {(sunday - day).days} 天 · "
                           f"items: the latest snapshot is {(sunday - day).days} days before the "
                           f"week's Sunday")
            continue
        what = "我店/竞品的 traffic" if t == "traffic" else t
        if hi is None and t == "sales":
            continue  # said by the sales basis
        if hi is None and t == "traffic":
            out.append("traffic：没有我店或竞品的流量数据 · traffic: no rows of our shop or the "
                       "competitors")
        elif hi is None:
            out.append(f"{what}：没有本类目数据 · {t}: no rows for the category")
        elif hi < sunday:
            out.append(f"{what} 止于 {hi:%Y-%m-%d}，早于本周日 {sunday:%Y-%m-%d} · {t} ends "
                       f"{hi:%Y-%m-%d}, before the week's Sunday")
        elif lo is not None and lo > monday:
            out.append(f"{what} 始于 {lo:%Y-%m-%d}，晚于本周一 {monday:%Y-%m-%d} · {t} starts "
                       f"{lo:%Y-%m-%d}, after the week's Monday")
    return out


# ---------------------------------------------------------------------------- reading our sales

def our_sales(warehouse: str | os.PathLike[str], scope: Scope) -> pd.DataFrame:
    """Our sales rows of the scope's category up to its week's Sunday.

    Rows of our shop (every row when the sales name no shop) whose ``category`` is the
    scope's category where that column is filled, else whose ``item_id`` is one of
    ``scope.our_items``. Empty (with the canonical columns) when none can be tied — then
    ``scope.sales_basis`` says so.

    Returns
    -------
    DataFrame
        The canonical ``sales`` columns, dates as ``datetime64``, sorted by date and item.
    """
    names = TABLES["sales"].names
    path = Path(str(warehouse)).expanduser() if str(warehouse or "") else default_warehouse()
    with open_read(path) as con:
        if not has_table(con, "sales"):
            return pd.DataFrame(columns=names)
        have = _columns(con, "sales")
        select = ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in names)
        named = int(fetch_one(con, "SELECT count(*) FROM sales WHERE shop IS NOT NULL AND "
                                   "shop <> ''")[0]) if "shop" in have else 0
        conds, args = ["date <= ?"], [pd.Timestamp(scope.week_end).date()]
        if scope.shop and named:
            conds.append("shop = ?")
            args.append(scope.shop)
        filled = "(category IS NOT NULL AND category <> '')" if "category" in have else "FALSE"
        tie = [f"({filled} AND category = ?)"] if "category" in have else []
        args += [scope.category] if "category" in have else []
        if scope.our_items:
            tie.append(f"(NOT {filled} AND item_id IN "
                       f"({', '.join('?' for _ in scope.our_items)}))")
            args += list(scope.our_items)
        if not tie:
            return pd.DataFrame(columns=names)
        conds.append("(" + " OR ".join(tie) + ")")
        frame = con.execute(f"SELECT {select} FROM sales WHERE {' AND '.join(conds)} "
                            f"ORDER BY date, item_id", args).df()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def scope_from_parameters(scope: dict[str, Any] | None, warehouse: str | os.PathLike[str],
                          category: str = "", week: str = "", shop: str = "",
                          competitors: str | Sequence[str] = (), top_n: int = 5,
                          currency: str = "") -> Scope:
    """A notebook's scope: the one ``research run`` passed, else resolved from its defaults.

    Parameters
    ----------
    scope : dict
        The ``scope`` parameter (:meth:`Scope.to_dict`); empty: resolve from the rest.
    warehouse, category, week, shop, competitors, top_n, currency
        As for :func:`resolve_scope`.

    Returns
    -------
    Scope
    """
    if scope:
        return Scope.from_dict(scope)
    return resolve_scope(warehouse, category, week=week, shop=shop, competitors=competitors,
                         top_n=top_n, currency=currency)
