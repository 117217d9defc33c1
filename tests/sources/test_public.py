"""Public datasets into the warehouse: each adapter checked against an independent
plain-pandas read of the raw files in ``../shared/data/real``.

All real datasets are imported once per module into a temporary warehouse (about ten
seconds); the tests then read it. Tests without real data cover validation and the
all-or-nothing transaction on small hand-made folders.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import research.sources.public as sources
from research.sources import olist
from research.sources.public import ADAPTERS, import_command, import_public, validate_frame
from research.store.scope import our_sales, resolve_scope
from research.store.warehouse import open_read, read

realdata = pytest.mark.realdata


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def loaded(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every dataset imported once into one warehouse; the first import's results kept."""
    warehouse = tmp_path_factory.mktemp("public") / "public.duckdb"
    results = {name: import_public(name, real_data / name, warehouse) for name in ADAPTERS}
    return {"warehouse": warehouse, "results": results, "root": real_data}


def _counts(warehouse: Path) -> dict[str, int]:
    tables = ("keywords", "items", "traffic", "sales", "market_daily", "audience", "events",
              "ingest_log")
    with open_read(warehouse) as con:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}


# ----------------------------------------------------------------------------- olist

def _olist_raw(root: Path) -> pd.DataFrame:
    folder = root / "olist" / "sample_8135_orders"
    orders = pd.read_csv(folder / "olist_orders_dataset.csv")
    items = pd.read_csv(folder / "olist_order_items_dataset.csv")
    products = pd.read_csv(folder / "olist_products_dataset.csv")
    delivered = orders[orders["order_status"] == "delivered"]
    lines = items.merge(delivered, on="order_id").merge(products, on="product_id", how="left")
    lines["category"] = lines["product_category_name"].fillna("sem_categoria")
    lines["ts"] = pd.to_datetime(lines["order_purchase_timestamp"])
    return lines


@realdata
def test_olist_orders_per_month_and_revenue_per_category(loaded: dict) -> None:
    raw = _olist_raw(loaded["root"])
    assert raw["order_id"].nunique() == 5172  # SOURCE.md: delivered orders in the sample
    market = read("market_daily", loaded["warehouse"])
    olist_cats = set(raw["category"])
    market = market[market["category"].isin(olist_cats)]
    # delivered orders per month and category
    expected = raw.groupby([raw["ts"].dt.to_period("M"), "category"])["order_id"].nunique()
    got = market.groupby([market["date"].dt.to_period("M"), "category"])["orders"].sum()
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False,
                                   check_dtype=False)
    # revenue (item prices, BRL) per category: exact to the centavo
    exp_rev = raw.groupby("category")["price"].sum().round(2)
    got_rev = market.groupby("category")["payment_amount"].sum().round(2)
    pd.testing.assert_series_equal(got_rev.sort_index(), exp_rev.sort_index(),
                                   check_names=False)
    assert got_rev["cama_mesa_banho"] == exp_rev["cama_mesa_banho"] > 0


@realdata
def test_olist_items_snapshot_window_and_sales_of_top_seller(loaded: dict) -> None:
    raw = _olist_raw(loaded["root"])
    items = read("items", loaded["warehouse"], currency="BRL")
    snaps = sorted(items["snapshot_date"].unique())
    assert pd.Timestamp(snaps[0]) == pd.Timestamp("2016-10-31")
    assert pd.Timestamp(snaps[-1]) == pd.Timestamp("2018-08-31")
    snap = items[items["snapshot_date"] == "2018-01-31"]
    day = raw["ts"].dt.normalize()
    window = raw[(day >= "2018-01-02") & (day <= "2018-01-31")]
    assert snap["sales_30d"].sum() == len(window)
    assert snap["revenue_30d"].sum() == pytest.approx(window["price"].sum())
    assert snap["shop"].nunique() == window["seller_id"].nunique()
    # our shop = the seller with most delivered orders
    per_seller = raw.groupby("seller_id")["order_id"].nunique()
    top = per_seller.idxmax()
    sales = read("sales", loaded["warehouse"], currency="BRL")
    assert set(sales["shop"]) == {top}
    ours = raw[raw["seller_id"] == top]
    assert sales["units"].sum() == len(ours)
    assert sales["revenue"].sum() == pytest.approx(ours["price"].sum())


@realdata
def test_olist_audience_shares(loaded: dict) -> None:
    raw = _olist_raw(loaded["root"])
    customers = pd.read_csv(loaded["root"] / "olist" / "sample_8135_orders"
                            / "olist_customers_dataset.csv")
    raw = raw.merge(customers, on="customer_id")
    audience = read("audience", loaded["warehouse"])
    sums = audience.groupby(["snapshot_date", "category", "dimension"])["share"].sum()
    assert np.allclose(sums, 1.0)
    assert set(audience["dimension"]) == {"province", "city", "hour", "weekday"}
    month = raw[(raw["ts"].dt.to_period("M") == "2018-03") & (raw["category"] == "beleza_saude")]
    orders = month.drop_duplicates("order_id")
    sp = (orders["customer_state"] == "SP").mean()
    row = audience[(audience["snapshot_date"] == "2018-03-31")
                   & (audience["category"] == "beleza_saude")
                   & (audience["dimension"] == "province") & (audience["segment"] == "SP")]
    assert row["share"].iloc[0] == pytest.approx(sp)
    monday = (orders["ts"].dt.day_of_week == 0).mean()
    row = audience[(audience["snapshot_date"] == "2018-03-31")
                   & (audience["category"] == "beleza_saude")
                   & (audience["dimension"] == "weekday") & (audience["segment"] == "1")]
    assert row["share"].iloc[0] == pytest.approx(monday)


@realdata
def test_olist_our_seller_option(real_data: Path, tmp_path: Path) -> None:
    lines = olist.load_delivered_lines(real_data / "olist")
    other = olist.seller_sales(lines, "cc419e0650a3c5ba77189a1882b7556a")
    assert set(other["shop"]) == {"cc419e0650a3c5ba77189a1882b7556a"}
    assert other["units"].sum() == (lines["seller_id"] == "cc419e0650a3c5ba77189a1882b7556a"
                                    ).sum()
    with pytest.raises(ValueError, match="no delivered order"):
        olist.seller_sales(lines, "nobody")


# ----------------------------------------------------------------------------- listings

@realdata
def test_amazon_india(loaded: dict) -> None:
    raw = pd.read_csv(loaded["root"] / "amazon_in_products" / "amazon.csv", dtype=str)
    items = read("items", loaded["warehouse"], currency="INR")
    assert len(items) == raw["product_id"].nunique() == 1351
    row = items[items["item_id"] == "B07JW9H4J1"].iloc[0]
    assert (row["price"], row["sales_30d"], row["shop"]) == (399.0, 24269, "Wayona")
    assert row["category"] == "Computers&Accessories" and row["leaf_category"] == "USBCables"


@realdata
def test_amazon_uk(loaded: dict) -> None:
    raw = pd.read_csv(loaded["root"] / "amazon_uk_products" / "amazon_co-ecommerce_sample.csv",
                      header=None)
    priced = raw[raw[4].notna()]
    items = read("items", loaded["warehouse"], currency="GBP")
    assert len(items) == len(priced) == 8565
    assert items["sales_30d"].sum() == priced[6].sum()
    assert items["price"].sum() == pytest.approx(priced[4].sum())
    row = items[items["item_id"] == "eac7efa5dbd3d667f26eb3d3ab504464"].iloc[0]
    assert (row["shop"], row["price"], row["category"]) == ("Hornby", 3.42, "Hobbies")


@realdata
def test_tokopedia(loaded: dict) -> None:
    raw = pd.read_csv(loaded["root"] / "tokopedia_lovebonito" / "getLayoutQueryData.csv",
                      index_col=0, dtype={"productID": str})
    priced = raw[raw["product_price"] > 0]
    items = read("items", loaded["warehouse"], currency="IDR")
    assert len(items) == len(priced) == 4258
    assert items["sales_30d"].sum() == priced["countSold"].sum()
    row = items[items["item_id"] == "12215080081"].iloc[0]
    assert (row["price"], row["shop"], row["leaf_category"]) == (
        749000.0, "Love, Bonito Indonesia", "Celana Panjang Wanita")


# ----------------------------------------------------------------------------- trends

@realdata
def test_google_trends(loaded: dict) -> None:
    kw = read("keywords", loaded["warehouse"])
    cerave = kw[kw["category"] == "skincare_us: cerave (United States)"].sort_values("date")
    raw = pd.read_csv(loaded["root"] / "google_trends" / "skincare_us"
                      / "multiTimeline_cerave.csv", skiprows=2)
    assert len(cerave) == len(raw) == 260
    # weekly points are stored on the week's last day (Sunday start + 6)
    assert cerave["date"].iloc[0] == pd.Timestamp(raw["Week"].iloc[0]) + pd.Timedelta(days=6)
    assert cerave["search_popularity"].tolist() == raw.iloc[:, 1].astype(float).tolist()
    bb = kw[kw["category"].str.startswith("bigbazaar_vs_dmart_in")]
    assert len(bb) == 2 * 85 and set(bb["keyword"]) == {"Big Bazaar", "DMart"}
    assert bb["date"].min() == pd.Timestamp("2014-01-31")
    toilet = kw[kw["keyword"] == "toilet paper"]
    assert toilet["category"].nunique() == 2  # USA and Japan are separate exports
    related = kw[kw["category"].str.contains("related to")]
    assert len(related) == 25 + 25
    assert set(related["date"]) == {pd.Timestamp("2023-12-18"), pd.Timestamp("2023-12-07")}
    events = read("events", loaded["warehouse"], kind="campaign")
    raw_events = pd.read_csv(loaded["root"] / "google_trends" / "skincare_us"
                             / "campaign_dates_neutrogena.csv")
    for desc, n in raw_events["Campaign Description"].value_counts().items():
        assert (events["name"] == f"neutrogena: {desc}").sum() == n
    # curology: three files, one set of campaigns; ranges expanded day by day
    emma = events[events["name"] == "curology: Emma chamberlain brand deal"]
    assert emma["date"].min() == pd.Timestamp("2018-05-22")
    assert len(emma) == (pd.Timestamp("2018-08-05") - pd.Timestamp("2018-05-22")).days + 1


# ----------------------------------------------------------------------------- m5

@realdata
def test_m5(loaded: dict) -> None:
    root = loaded["root"] / "m5"
    sales_raw = pd.read_csv(root / "sales_train_validation_10series.csv")
    prices = pd.read_csv(root / "sell_prices_10items.csv")
    calendar = pd.read_csv(root / "calendar.csv")
    sales = read("sales", loaded["warehouse"], currency="USD")
    assert sales["item_id"].nunique() == 10
    days = [c for c in sales_raw.columns if c.startswith("d_")]
    for row in sales_raw.itertuples():
        series = sales[sales["item_id"] == f"{row.item_id}_{row.store_id}"]
        assert series["units"].sum() == sales_raw.loc[row.Index, days].sum()
        first_week = prices[(prices["store_id"] == row.store_id)
                            & (prices["item_id"] == row.item_id)]["wm_yr_wk"].min()
        first_day = calendar.loc[calendar["wm_yr_wk"] == first_week, "date"].min()
        assert series["date"].min() == pd.Timestamp(first_day)
    one = sales[(sales["item_id"] == "HOBBIES_1_001_CA_1") & (sales["date"] == "2016-04-24")]
    week = calendar.loc[calendar["date"] == "2016-04-24", "wm_yr_wk"].iloc[0]
    price = prices[(prices["store_id"] == "CA_1") & (prices["item_id"] == "HOBBIES_1_001")
                   & (prices["wm_yr_wk"] == week)]["sell_price"].iloc[0]
    assert one["price"].iloc[0] == price
    events = read("events", loaded["warehouse"])
    named = events[events["kind"].isin(["sporting", "cultural", "national", "religious"])]
    assert len(named) == calendar["event_name_1"].notna().sum() + \
        calendar["event_name_2"].notna().sum()
    assert (events["name"] == "SNAP CA").sum() == calendar["snap_CA"].sum()
    # the category is M5's cat_id, so a study of FOODS takes a store's FOODS series only
    cats = dict(zip(sales_raw["item_id"] + "_" + sales_raw["store_id"], sales_raw["cat_id"],
                    strict=True))
    assert (sales["category"] == sales["item_id"].map(cats)).all()
    scope = resolve_scope(loaded["warehouse"], "FOODS")
    foods_stores = set(sales_raw.loc[sales_raw["cat_id"] == "FOODS", "store_id"])
    assert scope.shop in foods_stores and scope.currency == "USD"
    ours = our_sales(loaded["warehouse"], scope)
    assert len(ours) and set(ours["item_id"].map(cats)) == {"FOODS"}
    assert set(ours["shop"]) == {scope.shop}


# ----------------------------------------------------------------------------- taobao, uci

@realdata
def test_taobao_userbehavior(loaded: dict) -> None:
    raw = pd.read_csv(loaded["root"] / "taobao_userbehavior" / "UserBehavior.csv", header=None,
                      names=["user", "item", "cat", "kind", "ts"])
    raw["date"] = (pd.to_datetime(raw["ts"], unit="s") + pd.Timedelta(hours=8)).dt.normalize()
    raw = raw[(raw["date"] >= "2017-11-25") & (raw["date"] <= "2017-12-03")]
    assert len(raw) == 4320  # the one 2017-09-11 event is outside the window
    traffic = read("traffic", loaded["warehouse"])
    assert traffic["page_views"].sum() == (raw["kind"] == "pv").sum()
    assert traffic["carts"].sum() == (raw["kind"] == "cart").sum() == 190
    assert traffic["favorites"].sum() == (raw["kind"] == "fav").sum() == 128
    buyers = raw[raw["kind"] == "buy"].groupby(["date", "cat"])["user"].nunique().sum()
    assert traffic["buyers"].sum() == buyers
    visitors = raw.groupby(["date", "cat"])["user"].nunique()
    assert len(traffic) == len(visitors)
    assert traffic["visitors"].sum() == visitors.sum()
    assert set(traffic["channel"]) == {"other"}


@realdata
def test_uci_daily_revenue(loaded: dict) -> None:
    raw = pd.read_csv(loaded["root"] / "uci_online_retail_ii_invoices"
                      / "online_retail_ii_invoices.csv", dtype={"invoice_id": str})
    raw = raw.drop_duplicates("invoice_id")
    assert len(raw) == 53628
    assert raw["total_price"].sum() == pytest.approx(18_909_762.12, abs=0.01)
    kept = raw[~raw["invoice_id"].str.startswith("A")]
    sales = read("sales", loaded["warehouse"], currency="GBP")
    assert (sales["revenue"] - sales["refunds"]).sum() == pytest.approx(
        kept["total_price"].sum())
    day = pd.to_datetime(kept["invoice_date"], format="%m/%d/%y %H:%M").dt.normalize()
    sold = kept[(kept["total_price"] > 0) & ~kept["invoice_id"].str.startswith("C")]
    per_day = sold.groupby(day[sold.index])["total_price"].sum()
    got = sales.set_index("date")["revenue"]
    assert got[per_day.index].round(2).tolist() == per_day.round(2).tolist()
    assert len(sales) == (day.max() - day.min()).days + 1
    assert sales["units"].sum() == sold["total_quantity"].sum()


# ----------------------------------------------------------------------------- idempotence

@realdata
def test_reimport_changes_nothing(loaded: dict) -> None:
    before = _counts(loaded["warehouse"])
    items_before = read("items", loaded["warehouse"]).sort_values(
        ["snapshot_date", "item_id"], ignore_index=True)
    for name in ADAPTERS:
        again = import_public(name, loaded["root"] / name, loaded["warehouse"])
        first = loaded["results"][name]
        assert [(r.table, r.rows) for r in again] == [(r.table, r.rows) for r in first]
        assert all(r.new == 0 and r.replaced == 0 and r.unchanged == r.rows for r in again)
    assert _counts(loaded["warehouse"]) == before
    after = read("items", loaded["warehouse"]).sort_values(
        ["snapshot_date", "item_id"], ignore_index=True)
    pd.testing.assert_frame_equal(after, items_before)


@realdata
@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_wrong_folder_is_refused_and_warehouse_unchanged(loaded: dict, name: str) -> None:
    before = _counts(loaded["warehouse"])
    with pytest.raises(ValueError, match=r"m4 is not|m4.*missing|file .* is missing"):
        import_public(name, loaded["root"] / "m4", loaded["warehouse"])
    assert _counts(loaded["warehouse"]) == before


@realdata
def test_wrong_folder_message_names_the_file(real_data: Path) -> None:
    with pytest.raises(ValueError) as info:
        sources.read_public("olist", real_data / "m4")
    assert "olist_orders_dataset.csv" in str(info.value)
    assert str(info.value).count("\n") == 0


@realdata
def test_cli_prints_what_was_stored(real_data: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    args = ["taobao_userbehavior", str(real_data / "taobao_userbehavior"), "-w", str(warehouse)]
    first = CliRunner().invoke(import_command, args)
    assert first.exit_code == 0, first.output
    assert "traffic" in first.output and "1,142 new" in first.output
    second = CliRunner().invoke(import_command, args)
    assert "nothing changed" in second.output and "1,142 unchanged" in second.output
    bad = CliRunner().invoke(import_command, ["olist", str(real_data / "m4"), "-w",
                                              str(warehouse)])
    assert bad.exit_code != 0 and "olist_orders_dataset.csv" in bad.output


# ----------------------------------------------------------------------------- no real data

def _taobao_folder(folder: Path, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "UserBehavior.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_taobao_hand_made_funnel(tmp_path: Path) -> None:
    # 2017-11-25 00:30 Beijing = 2017-11-24 16:30 UTC = 1511541000
    t = 1511541000
    folder = _taobao_folder(tmp_path / "tb", [
        f"1,10,7,pv,{t}", f"1,10,7,pv,{t + 60}", f"1,10,7,cart,{t + 120}",
        f"1,10,7,buy,{t + 180}", f"2,11,7,pv,{t + 200}", f"2,11,7,fav,{t + 300}",
        f"3,12,8,pv,{t - 3600}",  # 2017-11-24 23:30 Beijing: before the window, dropped
    ])
    frame = sources.read_public("taobao_userbehavior", folder)["traffic"]
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["date"] == pd.Timestamp("2017-11-25") and row["shop"] == "category 7"
    assert (row["visitors"], row["page_views"], row["carts"], row["favorites"],
            row["buyers"]) == (2, 3, 1, 1, 1)


def test_taobao_refuses_other_file(tmp_path: Path) -> None:
    folder = _taobao_folder(tmp_path / "tb", ["1,10,7,click,1511541000"])
    with pytest.raises(ValueError, match="behavior_type"):
        sources.read_public("taobao_userbehavior", folder)


def test_validate_frame_catches_contract_breaks() -> None:
    ok = pd.DataFrame({"snapshot_date": pd.to_datetime(["2024-01-31"] * 2),
                       "item_id": ["a", "b"], "shop": "s", "category": "c",
                       "price": [1.0, 2.0], "sales_30d": [0, 3]})
    validate_frame("items", ok)
    with pytest.raises(ValueError, match="price"):
        validate_frame("items", ok.assign(price=[0.0, 2.0]))
    with pytest.raises(ValueError, match="share a key"):
        validate_frame("items", ok.assign(item_id="a"))
    with pytest.raises(ValueError, match="no shop"):
        validate_frame("items", ok.assign(shop=[None, "s"]))
    audience = pd.DataFrame({"snapshot_date": pd.to_datetime(["2024-01-31"]), "category": "c",
                             "dimension": "hour", "segment": "1", "share": [1.2]})
    with pytest.raises(ValueError, match="share"):
        validate_frame("audience", audience)


def test_unknown_dataset_and_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown public dataset"):
        sources.read_public("alibaba", tmp_path)
    with pytest.raises(ValueError, match="no option 'our_seller'"):
        sources.read_public("m5", tmp_path, our_seller="x")


def test_warehouse_inside_dataset_is_refused(tmp_path: Path) -> None:
    folder = _taobao_folder(tmp_path / "tb", ["1,10,7,pv,1511541000"])
    with pytest.raises(ValueError, match="inside the dataset folder"):
        import_public("taobao_userbehavior", folder, folder / "w.duckdb")
    assert not (folder / "w.duckdb").exists()


def test_failed_store_rolls_everything_back(tmp_path: Path, monkeypatch) -> None:
    folder = _taobao_folder(tmp_path / "tb", ["1,10,7,pv,1511541000"])
    warehouse = tmp_path / "w.duckdb"
    frames = {
        "events": pd.DataFrame({"date": pd.to_datetime(["2017-11-25"]), "name": ["x"]}),
        "traffic": sources.read_public("taobao_userbehavior", folder)["traffic"],
    }
    monkeypatch.setattr(sources, "read_public", lambda *a, **k: frames)
    real_store = sources.store
    calls = []

    def failing_store(con, table, frame, ingest_id=None):
        calls.append(table)
        if table == "traffic":
            raise RuntimeError("disk full")
        return real_store(con, table, frame, ingest_id)

    monkeypatch.setattr(sources, "store", failing_store)
    with pytest.raises(RuntimeError, match="disk full"):
        import_public("taobao_userbehavior", folder, warehouse)
    assert calls == ["events", "traffic"]
    assert read("events", warehouse).empty and read("ingest_log", warehouse).empty


def test_dataset_folder_is_only_read(tmp_path: Path) -> None:
    folder = _taobao_folder(tmp_path / "tb", ["1,10,7,pv,1511541000"])
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    import_public("taobao_userbehavior", folder, tmp_path / "w.duckdb")
    assert sorted(p.name for p in folder.iterdir()) == ["UserBehavior.csv"]
    assert (folder / "UserBehavior.csv").read_bytes() == (copy / "UserBehavior.csv").read_bytes()
