"""Which data the plan's sections could not have: the category's rows missing from a table.

The plan summary restates other pages' results; when a page left no result (or an empty
one) because the warehouse holds none of the data it works from, the section says which
data is missing instead of blaming the page (:mod:`research.plan.summary`). The counts are
of the category's rows up to the study week's Sunday (nothing later is read).

=================  ==========================================  ===========================
Gap key            Rows counted                                Sections it explains
=================  ==========================================  ===========================
``keywords``       ``keywords`` of the category                core keywords
``items``          ``items`` snapshots of the category         advantages, price, listings
``competitors``    the scope's competitor set (empty or not)   advantages
``our_items``      our shop's ``items`` rows in the category    advantages
``sales``          our ``sales`` tied to the category           outlook, targets
=================  ==========================================  ===========================
"""

from __future__ import annotations

import os

import duckdb

from research.store.scope import Scope
from research.store.warehouse import open_read

__all__ = ["data_gaps", "GAP_TEXT"]

#: what each missing piece of data is, Chinese then English (completed with the category)
GAP_TEXT = {
    "keywords": ("仓库中没有类目「{c}」的关键词数据（keywords 表，截至 {end}）",
                 "the warehouse has no keyword rows (keywords) of {c!r} up to {end}"),
    "items": ("仓库中没有类目「{c}」的商品快照（items 表，截至 {end}）",
              "the warehouse has no listing snapshot (items) of {c!r} up to {end}"),
    "competitors": ("本次研究没有竞品（竞品规则未选出任何店铺）",
                    "the study has no competitors (the competitor rule chose none)"),
    "our_items": ("我店在类目「{c}」没有在售商品（items 表中没有我店的商品，截至 {end}），无从比较属性",
                  "our shop has no listing of {c!r} in items up to {end}, so no attribute can be "
                  "compared"),
    "sales": ("我店在类目「{c}」没有可归入的销售（sales 表，截至 {end}）",
              "none of our sales (sales) can be tied to {c!r} up to {end}"),
}


def _rows(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list[object]
          ) -> int:
    held = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    if table not in held:
        return 0
    return int(con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}',
                           params).fetchall()[0][0])


def data_gaps(warehouse: str | os.PathLike[str], scope: Scope, sales_rows: int
              ) -> dict[str, tuple[str, str]]:
    """The data the study's category lacks, as sentences (Chinese, English) by gap key.

    Parameters
    ----------
    warehouse : path-like
        The DuckDB file (read-only).
    scope : Scope
        Category, week's Sunday, our shop and the competitors.
    sales_rows : int
        Our sales rows tied to the category (:func:`research.store.scope.our_sales`).

    Returns
    -------
    dict
        Only the keys of :data:`GAP_TEXT` whose data is missing.
    """
    c, end = scope.category, scope.week_end
    with open_read(warehouse) as con:
        counts = {
            "keywords": _rows(con, "keywords", "category = ? AND date <= ?", [c, end]),
            "items": _rows(con, "items", "category = ? AND snapshot_date <= ?", [c, end]),
            "our_items": _rows(con, "items", "category = ? AND snapshot_date <= ? AND shop = ?",
                               [c, end, scope.shop]),
        }
    counts["competitors"] = len(scope.competitors)
    counts["sales"] = sales_rows
    return {k: (zh.format(c=c, end=end), en.format(c=c, end=end))
            for k, (zh, en) in GAP_TEXT.items() if counts[k] == 0}
