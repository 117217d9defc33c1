"""The study scope: refusals naming the nearest held names, the week's range, the one
competitor rule, and our sales restricted to the category (by the sales ``category`` column
and through ``items``). Small warehouses are built here; the sample market and Olist check
the same rules on full data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from research.store.scope import (
    Scope,
    ScopeError,
    nearest,
    our_sales,
    resolve_scope,
    scope_from_parameters,
)
from research.store.warehouse import connect, read, store

OURS = "我的店"


def build(path: Path, **tables: pd.DataFrame) -> Path:
    """A warehouse holding the given canonical frames."""
    with connect(path) as con:
        for name, frame in tables.items():
            store(con, name, frame)
    return path


def keywords(category: str, start: str = "2026-11-02", end: str = "2026-11-25") -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return pd.DataFrame({"date": days, "category": category, "keyword": category,
                         "search_popularity": 100.0})


def items(rows: list[tuple[str, str, str, float, int]], snapshot: str = "2026-11-22"
          ) -> pd.DataFrame:
    """(item_id, shop, category, price, sales_30d) rows of one snapshot."""
    frame = pd.DataFrame(rows, columns=["item_id", "shop", "category", "price", "sales_30d"])
    return frame.assign(snapshot_date=pd.Timestamp(snapshot))


def sales(rows: list[tuple[str, str, float]], shop: str = OURS, category: bool = False,
          start: str = "2026-11-02", end: str = "2026-11-25") -> pd.DataFrame:
    """Daily rows for (item_id, category, revenue/day) from ``start`` to ``end``."""
    days = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame([{"date": d, "item_id": i, "units": 1, "revenue": r, "shop": shop,
                           **({"category": c} if category else {})}
                          for d in days for i, c, r in rows])
    return frame


# ------------------------------------------------------------------ two categories, one shop

@pytest.fixture(scope="module")
def two_categories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Our shop sells 保温杯 (items a1, a2) and 茶具 (item b1) — three warehouses: sales with a
    filled category column, sales without one (tied through items), and a mix."""
    folder = tmp_path_factory.mktemp("scope")
    listing = items([("a1", OURS, "保温杯", 50.0, 10), ("a2", OURS, "保温杯", 80.0, 5),
                     ("c1", "店甲", "保温杯", 60.0, 100), ("c2", "店乙", "保温杯", 40.0, 50),
                     ("c3", "店丙", "保温杯", 10.0, 10), ("b1", OURS, "茶具", 99.0, 10),
                     ("t1", "茶店", "茶具", 30.0, 10)])
    rows = [("a1", "保温杯", 10.0), ("a2", "保温杯", 20.0), ("b1", "茶具", 1000.0)]
    base = {"keywords": pd.concat([keywords("保温杯"), keywords("茶具"), keywords("水壶")]),
            "items": listing}
    mixed = pd.concat([sales(rows[:1] + rows[2:], category=True),
                       sales(rows[1:2], category=False)])
    return {
        "column": build(folder / "column.duckdb", **base,
                        # the column decides: a1 is also listed, b1 is not in items here
                        sales=sales(rows, category=True)),
        "items": build(folder / "items.duckdb", **base, sales=sales(rows)),
        "mixed": build(folder / "mixed.duckdb", **base, sales=mixed),
    }


@pytest.mark.parametrize("kind, basis", [("column", "by the sales category column"),
                                         ("items", "by our item ids listed in items"),
                                         ("mixed", "by the sales category column")])
def test_our_sales_are_only_the_categorys(two_categories: dict[str, Path], kind: str,
                                          basis: str) -> None:
    scope = resolve_scope(two_categories[kind], "保温杯")
    assert scope.shop == OURS and scope.week == "2026-W47"
    assert basis in scope.sales_basis
    ours = our_sales(two_categories[kind], scope)
    assert set(ours["item_id"]) == {"a1", "a2"}
    assert ours["date"].max() == pd.Timestamp("2026-11-22")  # nothing after the week's Sunday
    # 21 days 2026-11-02 .. 11-22 of 10 + 20 a day: the 茶具 item's 1000 a day never counted
    assert ours["revenue"].sum() == pytest.approx(21 * 30.0)
    tea = resolve_scope(two_categories[kind], "茶具")
    assert set(our_sales(two_categories[kind], tea)["item_id"]) == {"b1"}
    assert tea.competitors == ("茶店",)


def test_mixed_sales_say_both_bases(two_categories: dict[str, Path]) -> None:
    scope = resolve_scope(two_categories["mixed"], "保温杯")
    assert "by the sales category column" in scope.sales_basis
    assert "by our item ids listed in items" in scope.sales_basis


def test_a_category_none_of_our_sales_belong_to_gets_no_sales(
        two_categories: dict[str, Path]) -> None:
    scope = resolve_scope(two_categories["items"], "水壶")  # keywords only
    assert our_sales(two_categories["items"], scope).empty
    assert "none of our sales can be tied to the category" in scope.sales_basis
    assert scope.sales_basis in scope.warnings
    assert scope.competitors == () and "no competitors" in scope.competitor_rule


def test_competitors_by_revenue_on_the_latest_snapshot_without_our_shop(
        two_categories: dict[str, Path]) -> None:
    scope = resolve_scope(two_categories["items"], "保温杯", top_n=2)
    # revenue = price × sales_30d: 店甲 6000, 店乙 2000, 店丙 100; ours (900) left out
    assert scope.competitors == ("店甲", "店乙")
    assert scope.competitor_rule.startswith("类目内最近一期商品快照（2026-11-22）30天销售额前2名（我店除外）")
    assert "top 2 shops by 30-day revenue on the latest items snapshot" in scope.competitor_rule
    wide = resolve_scope(two_categories["items"], "保温杯", top_n=5)
    assert wide.competitors == ("店甲", "店乙", "店丙")
    assert "only 3 shop(s) other than ours" in wide.competitor_rule


def test_competitors_by_visitors_when_the_category_has_no_items(tmp_path: Path) -> None:
    days = pd.date_range("2026-11-02", "2026-11-25", freq="D")
    traffic = pd.DataFrame(
        [{"date": d, "shop": s, "item_id": "", "channel": "organic_search", "visitors": v}
         for d in days for s, v in ((OURS, 1000), ("甲", 30), ("乙", 20), ("丙", 10))]
        # item rows of 乙 beside its shop rows are not counted twice; 丁 has item rows only
        + [{"date": d, "shop": s, "item_id": i, "channel": "organic_search", "visitors": v}
           for d in days for s, i, v in (("乙", "x", 15), ("丁", "y", 12), ("丁", "z", 12))])
    path = build(tmp_path / "t.duckdb", keywords=keywords("保温杯"), traffic=traffic,
                 sales=sales([("a1", "", 10.0)]))
    scope = resolve_scope(path, "保温杯", top_n=3)
    assert scope.competitors == ("甲", "丁", "乙")
    assert ("the top 3 of the 4 shops our traffic export monitors, by summed daily visitors"
            in scope.competitor_rule)
    # our sales cannot be tied to the category (no items, no category column)
    assert our_sales(path, scope).empty


def test_named_competitors_and_the_given_shop(two_categories: dict[str, Path]) -> None:
    scope = resolve_scope(two_categories["items"], "保温杯", shop=OURS,
                          competitors="店丙, 店甲", currency="USD")
    assert scope.competitors == ("店丙", "店甲")
    assert scope.competitor_rule == "指定竞品（2家） · named competitors (2)"
    assert scope.shop_rule.startswith("指定") and scope.currency == "USD"
    with pytest.raises(ScopeError, match="competitor '我的店' is our own shop"):
        resolve_scope(two_categories["items"], "保温杯", competitors=[OURS])


# ------------------------------------------------------------------ refusals

def test_every_problem_is_listed_with_the_nearest_names(two_categories: dict[str, Path]) -> None:
    with pytest.raises(ScopeError) as info:
        resolve_scope(two_categories["items"], "保温瓶", shop="我的", competitors=["店甲x"],
                      week="2026-W99")
    text = str(info.value)
    assert "未知类目 '保温瓶' — did you mean 保温杯?" in text
    assert "warehouse holds categories: 保温杯, 水壶, 茶具" in text
    assert "未知店铺 '我的' — did you mean 我的店?" in text
    assert "未知竞品 '店甲x' — did you mean 店甲" in text
    assert "2026 has no ISO week 99" in text
    assert len(info.value.problems) == 4


def test_a_competitor_is_checked_against_the_category(two_categories: dict[str, Path]) -> None:
    with pytest.raises(ScopeError, match="未知竞品 '茶店'"):
        resolve_scope(two_categories["items"], "保温杯", competitors=["茶店"])  # sells 茶具


@pytest.mark.parametrize("week, message", [
    ("2023-W10", "week 2023-W10 ends before the data starts: category '保温杯' has data "
                 "2026-11-02 – 2026-11-25"),
    ("2026-W48", "week 2026-W48 ends after the data ends: category '保温杯' has data "
                 "2026-11-02 – 2026-11-25"),
    ("last week", "'last week' is not an ISO week such as 2026-W47"),
])
def test_a_week_outside_the_data_is_refused_with_its_range(
        two_categories: dict[str, Path], week: str, message: str) -> None:
    with pytest.raises(ScopeError) as info:
        resolve_scope(two_categories["items"], "保温杯", week=week)
    assert message in str(info.value)


def test_a_week_a_table_does_not_cover_is_stated_not_refused(tmp_path: Path) -> None:
    days = pd.date_range("2026-11-02", "2026-11-19", freq="D")  # ends Thursday of W47
    traffic = pd.DataFrame({"date": days, "shop": OURS, "item_id": "",
                            "channel": "organic_search", "visitors": 5})
    path = build(tmp_path / "w.duckdb", keywords=keywords("保温杯"), traffic=traffic,
                 items=items([("a1", OURS, "保温杯", 5.0, 1)], snapshot="2026-10-01"),
                 sales=sales([("a1", "", 1.0)], end="2026-11-20"))
    scope = resolve_scope(path, "保温杯", week="2026-W47")
    text = "\n".join(scope.warnings)
    assert "traffic ends 2026-11-19, before the week's Sunday" in text
    assert "sales ends 2026-11-20, before the week's Sunday" in text
    assert "items: the latest snapshot is 52 days before the week's Sunday" in text
    assert "market_daily: no rows for the category" in text
    assert scope.data_end == "2026-11-22" and scope.data_start == "2026-10-01"


def test_missing_warehouse_and_empty_category(tmp_path: Path,
                                              two_categories: dict[str, Path]) -> None:
    with pytest.raises(ScopeError, match="does not exist"):
        resolve_scope(tmp_path / "none.duckdb", "保温杯")
    with pytest.raises(ScopeError, match="no category given"):
        resolve_scope(two_categories["items"], "")


def test_nearest_prefers_close_and_containing_names() -> None:
    assert nearest("杯乐多", ["杯乐多旗舰店", "茶具店"]) == ["杯乐多旗舰店"]
    assert nearest("完全不同", ["保温杯"]) == []


# ------------------------------------------------------------------ round trip

def test_scope_round_trips_and_a_passed_scope_is_used_as_is(
        two_categories: dict[str, Path]) -> None:
    scope = resolve_scope(two_categories["items"], "保温杯")
    values = scope.to_dict()
    assert isinstance(values["competitors"], list) and Scope.from_dict(values) == scope
    assert Scope.from_dict({**values, "added_later": 1}) == scope
    # a passed scope wins over the notebook's own defaults, which are not even checked
    assert scope_from_parameters(values, "/nowhere.duckdb", category="保温瓶") == scope
    assert scope_from_parameters({}, two_categories["items"], category="保温杯") == scope


# ------------------------------------------------------------------ the sample market, Olist

def test_the_sample_market_scope(sample_warehouse: Path, truth: dict) -> None:
    scope = resolve_scope(sample_warehouse, truth["category"])
    assert scope.week == "2026-W47" and scope.week_end == truth["end"]
    assert scope.shop == truth["our_shop"] and "most rows of the category in our sales" in scope.shop_rule
    assert scope.data_start == truth["start"] and scope.warnings == ()
    # the rule, worked out here with pandas: the shops the traffic export monitors that list
    # in the category, top 5 by revenue_30d (else price × sales_30d) on the latest snapshot
    listed = read("items", sample_warehouse, category=truth["category"])
    latest = listed[listed["snapshot_date"] == listed["snapshot_date"].max()]
    revenue = latest["revenue_30d"].fillna(latest["price"] * latest["sales_30d"])
    monitored = set(read("traffic", sample_warehouse)["shop"]) - {truth["our_shop"]}
    by_shop = revenue.groupby(latest["shop"]).sum()
    top = by_shop[by_shop.index.isin(monitored)].sort_values(ascending=False).head(5)
    # the shops of the planted moves are among them
    assert {truth["traffic"]["affiliate"]["shop"], truth["traffic"]["paid_shift"]["shop"]} \
        <= set(top.index)
    assert scope.competitors == tuple(top.index)
    assert scope.competitors[0] == truth["market"]["rising_leader"]  # the planted leader
    assert truth["our_shop"] not in scope.competitors
    # our sales: the category's listings only
    ours = our_sales(sample_warehouse, scope)
    assert set(ours["item_id"]) == set(truth["items"]["our_items"])
    assert set(scope.our_items) == set(truth["items"]["our_items"])
    everything = read("sales", sample_warehouse)
    assert len(ours) == (everything["item_id"].isin(truth["items"]["our_items"])).sum()


def test_the_sample_market_refusals(sample_warehouse: Path) -> None:
    with pytest.raises(ScopeError) as info:
        resolve_scope(sample_warehouse, "保温瓶", shop="暖杯记旗舰", competitors=["杯乐多旗舰"])
    text = str(info.value)
    assert "did you mean 保温杯" in text
    assert "did you mean 暖杯记旗舰店" in text
    assert "did you mean 杯乐多旗舰店" in text
    with pytest.raises(ScopeError, match="2024-09-02 – 2026-11-22"):
        resolve_scope(sample_warehouse, "保温杯", week="2023-W10")


@pytest.mark.realdata
def test_olist_categories_resolve_without_keywords(real_data: Path, tmp_path: Path) -> None:
    from research.sources.public import import_public

    path = tmp_path / "olist.duckdb"
    import_public("olist", real_data / "olist", warehouse=path)
    listed = read("items", path)
    ours = read("sales", path)
    shop = ours["shop"].mode().iloc[0]
    mine = listed[listed["item_id"].isin(ours["item_id"])]
    sold_in = mine["category"].value_counts()
    category = str(sold_in.index[0])
    scope = resolve_scope(path, category)
    assert scope.shop == shop and scope.currency == "BRL"
    assert "keywords: no rows for the category" in "\n".join(scope.warnings)
    assert set(scope.our_items) == set(mine.loc[mine["category"] == category, "item_id"])
    assert set(our_sales(path, scope)["item_id"]) <= set(scope.our_items)
    assert shop not in scope.competitors and len(scope.competitors) == 5
    # a category our seller does not sell in: no sales, said so
    other = sorted(set(listed["category"]) - set(sold_in.index))[0]
    none = resolve_scope(path, other)
    assert our_sales(path, none).empty and "none of our sales" in none.sales_basis
    with pytest.raises(ScopeError, match=f"did you mean {category}"):
        resolve_scope(path, category[:-1])


def test_competitors_are_the_monitored_shops_that_list_in_the_category(tmp_path: Path) -> None:
    """Traffic monitors 店乙, 店丙 and 茶店; only 店乙 and 店丙 list 保温杯, ranked by revenue
    (店乙 2000 > 店丙 100) although 店丙 has more visitors; 店甲 (6000, not monitored) is left
    out. For 茶具 no monitored shop lists, so the rule falls back to the snapshot's revenue."""
    days = pd.date_range("2026-11-02", "2026-11-25", freq="D")
    traffic = pd.DataFrame([{"date": d, "shop": s, "item_id": "", "channel": "organic_search",
                             "visitors": v}
                            for d in days for s, v in (("店乙", 10), ("店丙", 50), ("茶店x", 99))])
    listing = items([("a1", OURS, "保温杯", 50.0, 10), ("c1", "店甲", "保温杯", 60.0, 100),
                     ("c2", "店乙", "保温杯", 40.0, 50), ("c3", "店丙", "保温杯", 10.0, 10),
                     ("t1", "茶店", "茶具", 30.0, 10)])
    path = build(tmp_path / "m.duckdb", keywords=pd.concat([keywords("保温杯"), keywords("茶具")]),
                 items=listing, traffic=traffic, sales=sales([("a1", "", 10.0)]))
    scope = resolve_scope(path, "保温杯", top_n=5)
    assert scope.competitors == ("店乙", "店丙")
    assert "the top 5 of the 2 shops our traffic export monitors that list in the category" \
        in scope.competitor_rule
    tea = resolve_scope(path, "茶具", top_n=5)
    assert tea.competitors == ("茶店",)
    assert "none of the shops the traffic export monitors lists in the category" \
        in tea.competitor_rule


def test_our_shop_is_the_one_with_most_sales_of_the_category(tmp_path: Path) -> None:
    """Store A has more sales rows overall (all 茶具), store B fewer but of 保温杯: B is ours
    for 保温杯 and A for 茶具 (M5-like: several stores in one sales table)."""
    rows = pd.concat([sales([("a1", "茶具", 5.0), ("a2", "茶具", 5.0)], shop="A", category=True),
                      sales([("b1", "保温杯", 5.0)], shop="B", category=True)])
    path = build(tmp_path / "s.duckdb", keywords=pd.concat([keywords("保温杯"), keywords("茶具")]),
                 sales=rows)
    cup = resolve_scope(path, "保温杯")
    assert cup.shop == "B" and "most rows of the category in our sales" in cup.shop_rule
    assert set(our_sales(path, cup)["item_id"]) == {"b1"}
    assert resolve_scope(path, "茶具").shop == "A"


def test_a_category_only_we_list_in_gets_no_competitors(sample_warehouse: Path,
                                                        truth: dict) -> None:
    """The sample's second category (儿童水杯) is listed by our shop alone: the shops the
    traffic export monitors sell 保温杯, so they are not its competitors — none are taken."""
    kids = truth["second_category"]["category"]
    scope = resolve_scope(sample_warehouse, kids)
    assert scope.shop == truth["our_shop"]
    assert scope.competitors == ()
    assert "none of the shops the traffic export monitors lists in the category" \
        in scope.competitor_rule
    assert "no shop other than ours on the snapshot" in scope.competitor_rule
