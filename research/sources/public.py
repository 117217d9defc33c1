"""Real public datasets into the warehouse, through the same canonical tables as a shop's
own exports.

One small adapter module per dataset (``olist``, ``amazon_in_products``,
``amazon_uk_products``, ``tokopedia_lovebonito``, ``google_trends``, ``m5``,
``taobao_userbehavior``, ``uci_online_retail_ii_invoices``), each stating its source, licence
note and every mapping decision in its docstring, and each exposing ``NAME`` and
``read(path, **options) -> {table: frame}``. :func:`import_public` reads a dataset, checks
the frames against :mod:`research.store.schema` (required columns filled, keys unique, ranges) and
stores all of them in one DuckDB transaction with an ingest-log entry per table: the whole
dataset loads or nothing does, and re-importing the same files changes nothing.

The dataset folders are only read; a warehouse inside a dataset folder is refused.

Examples
--------
>>> from research.sources.public import ADAPTERS
>>> sorted(ADAPTERS)[:3]
['amazon_in_products', 'amazon_uk_products', 'google_trends']
>>> results = import_public("m5", "../shared/data/real/m5", "/tmp/w.duckdb")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from types import ModuleType

import click
import duckdb
import pandas as pd

from research.config import default_warehouse
from research.faults import Fault
from research.sources import (
    amazon_in,
    amazon_uk,
    google_trends,
    m5,
    olist,
    taobao_userbehavior,
    tokopedia,
    uci,
)
from research.sources.common import dataset_hash
from research.store.schema import TABLES
from research.store.warehouse import StoreResult, connect, log_ingest, store

__all__ = ["ADAPTERS", "import_public", "import_command", "validate_frame", "read_public"]


#: dataset name (its folder under ``shared/data/real``) → adapter module
ADAPTERS: dict[str, ModuleType] = {
    "olist": olist,
    "amazon_in_products": amazon_in,
    "amazon_uk_products": amazon_uk,
    "tokopedia_lovebonito": tokopedia,
    "google_trends": google_trends,
    "m5": m5,
    "taobao_userbehavior": taobao_userbehavior,
    "uci_online_retail_ii_invoices": uci,
}

_NUMERIC = ("float", "int", "share")


def validate_frame(table_name: str, frame: pd.DataFrame, source: str = "") -> None:
    """Check a canonical frame before it is stored.

    Required columns must be present and filled, the key unique, numbers within the
    column's range (e.g. ``price > 0``, ``share`` 0–1).

    Raises
    ------
    ValueError
        One message naming the table, the column and an example of the fault.

    Examples
    --------
    >>> frame = pd.DataFrame({"date": pd.to_datetime(["2026-11-01"]), "name": ["双11"]})
    >>> validate_frame("events", frame)
    >>> validate_frame("events", frame.drop(columns="name"))
    Traceback (most recent call last):
    ...
    ValueError: events: required column name is missing
    """
    where = f"{source}: {table_name}" if source else table_name
    if table_name not in TABLES:
        raise ValueError(f"{where}: not a canonical table ({', '.join(TABLES)})")
    tbl = TABLES[table_name]
    for name in tbl.required:
        if name not in frame.columns:
            raise ValueError(f"{where}: required column {name} is missing")
        empty = frame[name].isna()
        if empty.any():
            raise ValueError(f"{where}: {int(empty.sum())} row(s) have no {name}, "
                             f"e.g. row {int(empty.to_numpy().nonzero()[0][0])}")
    for col in tbl.columns:
        if col.name not in frame.columns or col.kind not in _NUMERIC:
            continue
        values = pd.to_numeric(frame[col.name], errors="coerce")
        bad = values.isna() & frame[col.name].notna()
        if col.minimum is not None:
            bad |= (values <= col.minimum) if col.exclusive_min else (values < col.minimum)
        if col.maximum is not None:
            bad |= values > col.maximum + 1e-9
        if bad.any():
            example = frame.loc[bad, col.name].iloc[0]
            raise ValueError(f"{where}: {int(bad.sum())} row(s) of {col.name} are not "
                             f"{col.expectation()}, e.g. {example!r}")
    key = [k for k in tbl.key if k in frame.columns]
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        first = frame.loc[dup, key].iloc[0].to_dict()
        raise ValueError(f"{where}: {int(dup.sum())} rows share a key {key}, e.g. {first}")


def read_public(name: str, path: str | os.PathLike[str], **options: object
                ) -> dict[str, pd.DataFrame]:
    """Read a public dataset with its adapter and validate every frame (nothing is stored).

    Raises
    ------
    ValueError
        Unknown dataset or option, a folder that is not the dataset, or a frame that breaks
        the contract.
    """
    if name not in ADAPTERS:
        raise ValueError(f"unknown public dataset {name!r}; known: {', '.join(sorted(ADAPTERS))}")
    adapter = ADAPTERS[name]
    accepted = [p for p in inspect.signature(adapter.read).parameters if p != "path"]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ValueError(f"{name} has no option {unknown[0]!r}; its options: "
                         f"{', '.join(accepted) or 'none'}")
    frames = adapter.read(Path(path), **{k: v for k, v in options.items() if v is not None})
    for table_name, frame in frames.items():
        validate_frame(table_name, frame, name)
    return frames


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    # warehouse.next_ingest_id leaves its one-row result open (fetchone), and DuckDB 2.0 then
    # refuses to register the frame store() stages; fetchall closes the result.
    return int(con.execute("SELECT nextval('ingest_id_seq')").fetchall()[0][0])


def import_public(name: str, path: str | os.PathLike[str],
                  warehouse: str | os.PathLike[str] | None = None, *, wait: float = 0.0,
                  **options: object) -> list[StoreResult]:
    """Load a public dataset into the warehouse, whole or not at all.

    Parameters
    ----------
    name : str
        A key of :data:`ADAPTERS` (the dataset's folder name under ``shared/data/real``).
    path : path-like
        The dataset's folder (only read).
    warehouse : path-like, optional
        The DuckDB file; default :func:`research.config.default_warehouse`.
    wait : float
        Seconds to wait for another process holding the warehouse (``research.faults.Busy``
        when it stays held).
    **options
        Passed to the adapter's ``read`` (e.g. ``our_seller`` for Olist, ``snapshot_date``
        for the listing snapshots).

    Returns
    -------
    list of StoreResult
        Per table: rows, new, replaced, unchanged. When nothing is new or replaced (the same
        dataset imported again) the transaction is rolled back, so neither the tables nor the
        ingest log change.

    Raises
    ------
    ValueError
        A folder that is not the dataset (naming the missing file or column), an unknown
        option, rows that break the contract, or a warehouse inside the dataset folder. The
        warehouse is left as it was.
    """
    source = Path(path)
    target = Path(warehouse) if warehouse is not None else default_warehouse()
    if source.exists() and _inside(target, source):
        raise ValueError(f"the warehouse {target} lies inside the dataset folder {source}; "
                         f"public data folders are only read — choose another warehouse")
    frames = read_public(name, source, **options)
    digest = dataset_hash(source)
    results: list[StoreResult] = []
    with connect(target, wait=wait) as con:
        con.execute("BEGIN")
        try:
            for table_name, frame in frames.items():
                ingest_id = _next_id(con)
                result = store(con, table_name, frame, ingest_id)
                log_ingest(con, file_name=str(source), content_hash=digest, result=result,
                           raw_path=None, source=f"public:{name}", ingest_id=ingest_id)
                results.append(result)
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # a failed COMMIT-less write (full disk) already ended it; keep its error
            raise
        if any(r.new or r.replaced for r in results):
            con.execute("COMMIT")
        else:
            con.execute("ROLLBACK")
    return results


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in pairs:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--option")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = value.strip()
    return out


@click.command("import-public")
@click.argument("name", type=click.Choice(sorted(ADAPTERS)))
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="DuckDB warehouse file (default: $RESEARCH_WAREHOUSE or data/warehouse.duckdb).")
@click.option("--our-seller", default=None, help="Olist: the seller_id to treat as our shop "
              "(default: the seller with the most delivered orders).")
@click.option("--snapshot-date", default=None, help="Listing snapshots (Amazon, Tokopedia): "
              "the date the listing was taken (default: the upstream commit date).")
@click.option("--option", "extra", multiple=True, metavar="KEY=VALUE",
              help="Any other adapter option, e.g. --option snapshot_date=2023-06-30.")
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="SECONDS",
              help="Wait this long for another process holding the warehouse (0: refuse).")
def import_command(name: str, path: Path, warehouse: Path | None, our_seller: str | None,
                   snapshot_date: str | None, extra: tuple[str, ...], wait: float) -> None:
    """Load a real public dataset (NAME = its folder name) into the warehouse.

    The mapping of each dataset onto the canonical tables is documented in the docstring of
    its adapter module under research/sources/ (and summed up in the README, "Real public
    datasets"). The dataset loads whole or not at all; importing it again changes nothing.
    """
    options: dict[str, object] = {**_parse_options(extra)}
    if our_seller is not None:
        options["our_seller"] = our_seller
    if snapshot_date is not None:
        options["snapshot_date"] = snapshot_date
    target = warehouse or default_warehouse()
    try:
        results = import_public(name, path, target, wait=wait, **options)
    except Fault:
        raise  # the command line shows it with its exit code
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    changed = any(r.new or r.replaced for r in results)
    for r in results:
        click.echo(f"  {r.table:<13}{r.rows:>10,} rows  {r.new:>10,} new  "
                   f"{r.replaced:>8,} replaced  {r.unchanged:>10,} unchanged")
    click.echo(f"{name} from {path} → {target}"
               + ("" if changed else " (already loaded: nothing changed)"))
