"""Parse an export's text cells into typed values, in DuckDB SQL (for :mod:`research.sources.exports`).

``create_macros`` defines the temporary SQL macros every parse uses (``_norm``: full-width
digits and signs to ASCII; ``_absent``: ``-``/``--``/empty and the like as missing; ``_num``:
``1,234``, ``¥12``, ``1.2万``, ``100+``; ``_share``: ``12.34%`` as 0.1234; ``_fin``: a
number only if it is finite, so ``inf``, ``Infinity``, ``1e309`` and ``NaN`` parse to NULL and
are refused as not a number, on the fast path and the thorough one alike; ``_date``:
``2026-11-01``, ``2026/11/1``, ``20261101``, ``2026年11月1日``...; ``_text``: spaces folded).
``build_clean`` turns the staged ``_raw`` table (text columns ``c0..cn``) into ``_clean``: one
column ``r_<name>`` with the raw text and one ``<name>`` with the parsed value per canonical
column. Each cell is first parsed the cheap way most cells are written (plain numbers, ISO
dates); only cells that parse may have got wrong are parsed again the thorough way. Traffic
channels and audience dimensions are mapped to their contract codes. Validation of the result
(cells that did not parse, out-of-range values, repeated keys) stays in :mod:`research.sources.exports`,
which relies on the ``_absent`` and ``_norm`` macros defined here.

Examples
--------
>>> import duckdb
>>> con = duckdb.connect()
>>> create_macros(con)
>>> con.execute("SELECT _num('1.2万'), _num('１，２３４'), _share('12.5%'), _absent('--'), "
...             "_date('2026年11月1日')").fetchone()
(12000.0, 1234.0, 0.125, True, datetime.date(2026, 11, 1))
>>> con.execute("SELECT _num('inf'), _num('-Infinity'), _num('1e309'), _share('1e309%'), "
...             "_num('1e309万')").fetchone()
(None, None, None, None, None)
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from research.store.schema import AUDIENCE_DIMENSIONS, CHANNEL_ALIASES, Column, Table
from research.store.warehouse import sql_literal

__all__ = ["create_macros", "build_clean"]

_MISSING = ("", "-", "--", "—", "——", "n/a", "N/A", "null", "NULL", "nan", "NaN", "None", "/")
_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d",
                 "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"]
_MISSING_SQL = ", ".join(f"'{m}'" for m in _MISSING)
_TRUE = ("是", "true", "1", "y", "yes", "天猫", "tmall", "√")
_FALSE = ("否", "false", "0", "n", "no", "淘宝", "c店", "集市", "×")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the temporary parsing macros (``_norm``, ``_absent``, ``_num``, ``_share``,
    ``_date``, ``_text``...) on ``con``."""
    full = "０１２３４５６７８９．，－＋％　：／"
    half = "0123456789.,-+% :/"
    missing = ", ".join(f"'{m}'" for m in _MISSING)
    formats = ", ".join(f"'{f}'" for f in _DATE_FORMATS)
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO _fin(x) AS CASE WHEN isfinite(x) THEN x END;
        CREATE OR REPLACE TEMP MACRO _norm(x) AS trim(translate(x, '{full}', '{half}'));
        CREATE OR REPLACE TEMP MACRO _absent(x) AS (x IS NULL OR _norm(x) IN ({missing}));
        CREATE OR REPLACE TEMP MACRO _numtext(x) AS
            replace(replace(replace(replace(replace(_norm(x), ',', ''), ' ', ''), '¥', ''),
                    '￥', ''), '元', '');
        CREATE OR REPLACE TEMP MACRO _num(x) AS _fin(
            TRY_CAST(rtrim(_numtext(x), '+万') AS DOUBLE)
            * CASE WHEN contains(_numtext(x), '万') THEN 10000 ELSE 1 END);
        CREATE OR REPLACE TEMP MACRO _share(x) AS _fin(CASE
            WHEN suffix(_numtext(x), '%') THEN TRY_CAST(rtrim(_numtext(x), '%') AS DOUBLE) / 100
            ELSE TRY_CAST(_numtext(x) AS DOUBLE) END);
        CREATE OR REPLACE TEMP MACRO _date(x) AS
            CAST(try_strptime(_norm(x), [{formats}]) AS DATE);
        CREATE OR REPLACE TEMP MACRO _text(x) AS
            nullif(regexp_replace(trim(replace(x, '　', ' ')), '\\s+', ' ', 'g'), '');
    """)


def _fast_expr(col: Column, raw: str) -> str:
    """SQL parsing a cell the way most cells are written (plain numbers, ISO dates)."""
    if col.kind == "date":
        return (f"coalesce(TRY_CAST({raw} AS DATE), "
                f"TRY_CAST(replace({raw}, '/', '-') AS DATE))")
    if col.kind in ("float", "int"):
        return (f"_fin(coalesce(TRY_CAST({raw} AS DOUBLE), "
                f"TRY_CAST(replace({raw}, ',', '') AS DOUBLE)))")
    if col.kind == "share":
        return (f"_fin(CASE WHEN suffix({raw}, '%') THEN TRY_CAST(left({raw}, -1) AS DOUBLE) "
                f"/ 100 ELSE TRY_CAST({raw} AS DOUBLE) END)")
    if col.kind == "bool":
        t = ", ".join(f"'{v}'" for v in _TRUE)
        f = ", ".join(f"'{v}'" for v in _FALSE)
        return (f"CASE WHEN lower(_norm({raw})) IN ({t}) THEN TRUE "
                f"WHEN lower(_norm({raw})) IN ({f}) THEN FALSE END")
    if col.kind == "id":
        return (f"CASE WHEN suffix({raw}, '.0') THEN regexp_replace(trim({raw}), "
                f"'^(\\d+)\\.0+$', '\\1') ELSE nullif(trim({raw}), '') END")
    return f"nullif(trim({raw}), '')"


def _slow_expr(col: Column, raw: str) -> str:
    """SQL parsing any form the platform writes (full-width, 万, %, missing tokens)."""
    inner = {
        "date": f"_date({raw})", "float": f"_num({raw})", "int": f"_num({raw})",
        "share": f"_share({raw})", "bool": _fast_expr(col, raw),
        "id": f"regexp_replace(_norm({raw}), '^(\\d+)\\.0+$', '\\1')",
        "text": f"_text({raw})",
    }[col.kind]
    return f"CASE WHEN _absent({raw}) THEN NULL ELSE {inner} END"


def _needs_slow(col: Column, raw: str) -> str:
    """Rows whose cell the fast parse may have got wrong."""
    if col.kind in ("text", "id"):
        wide = f" OR regexp_matches({raw}, '[０-９Ａ-Ｚａ-ｚ]')" if col.kind == "id" else ""
        return (f"{raw} IS NOT NULL AND (contains({raw}, '　') OR contains({raw}, '  ') "
                f"OR contains({raw}, chr(9)) OR trim({raw}) IN ({_MISSING_SQL}){wide})")
    return f'"{col.name}" IS NULL AND {raw} IS NOT NULL'


def _channel_sql() -> str:
    pairs = ", ".join(f"('{k}', '{v}')" for k, v in CHANNEL_ALIASES.items())
    return f"(VALUES {pairs}) AS ch(alias, code)"


def _dimension_sql() -> str:
    pairs = [(code, code) for code in AUDIENCE_DIMENSIONS]
    pairs += [(name, code) for code, names in AUDIENCE_DIMENSIONS.items() for name in names]
    return "(VALUES " + ", ".join(f"('{a}', '{c}')" for a, c in pairs) + ") AS dim(alias, code)"


def build_clean(con: duckdb.DuckDBPyConnection, tbl: Table, mapping: dict[str, int],
                headers: Sequence[str], defaults: dict[str, str], row_expr: str) -> None:
    """Parse the staged ``_raw`` table into ``_clean`` (needs :func:`create_macros` first).

    ``row_expr`` is the SQL giving each row's number as Excel shows it; ``defaults`` are
    constant values for columns the file lacks."""
    selects = [f"{row_expr} AS _row"]
    for col in tbl.columns:
        if col.name in mapping:
            raw = f"c{mapping[col.name]}"
        elif col.name in defaults:
            raw = sql_literal(defaults[col.name])
        elif col.name in tbl.key and col.name != "channel_raw":
            raw = "NULL"
        else:
            continue
        selects.append(f'{raw} AS "r_{col.name}"')
        if col.name == "channel":
            continue
        selects.append(f'{_fast_expr(col, raw)} AS "{col.name}"')
    extra = [(j, h) for j, h in enumerate(headers)
             if h and j not in mapping.values() and tbl.name == "items"]
    if extra:
        pairs = ", ".join(f"'{h.replace(chr(39), chr(39) * 2)}', c{j}" for j, h in extra)
        selects.append(f"CASE WHEN {' AND '.join(f'_absent(c{j})' for j, _ in extra)} THEN NULL "
                       f"ELSE CAST(json_object({pairs}) AS VARCHAR) END AS attributes")
    body = f"SELECT * FROM (SELECT {', '.join(selects)} FROM _raw)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _parsed AS {body}")
    for col in tbl.columns:
        if col.name in mapping or col.name in defaults:
            if col.name == "channel":
                continue
            raw = f'"r_{col.name}"'
            con.execute(f'UPDATE _parsed SET "{col.name}" = {_slow_expr(col, raw)} '
                        f"WHERE {_needs_slow(col, raw)}")
    for k in tbl.key:
        col = tbl.column(k)
        if col.kind in ("text", "id") and not col.required and k != "channel_raw":
            # e.g. item_id of shop-level traffic rows: the key stores "" rather than NULL
            con.execute(f'UPDATE _parsed SET "{k}" = \'\' WHERE "{k}" IS NULL')
    body = "_parsed"
    if tbl.name == "traffic":
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _clean AS
            SELECT s.*, coalesce(ch.code, 'other') AS channel,
                   _text(s."r_channel") AS channel_raw
            FROM {body} s
            LEFT JOIN {_channel_sql()} ON ch.alias = _text(s."r_channel")""")
    elif tbl.name == "audience":
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _clean AS
            SELECT * REPLACE (coalesce(dim.code, s."dimension") AS "dimension")
            FROM {body} s
            LEFT JOIN {_dimension_sql()} ON dim.alias = s."dimension" """)
    else:
        con.execute("DROP TABLE IF EXISTS _clean")
        con.execute("ALTER TABLE _parsed RENAME TO _clean")
        return
    con.execute("DROP TABLE _parsed")
