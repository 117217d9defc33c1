"""The study scope: what one weekly study is about, resolved once and checked.

A :class:`Scope` — category, study week (ISO week and its dates), our shop, the competitor
set with the rule that chose it, currency and the data window — is resolved by
:func:`resolve_scope` before any notebook runs (``research run``), written to
``manifest.json`` and handed to every notebook as its ``scope`` parameter
(:meth:`Scope.to_dict` / :meth:`Scope.from_dict`). No page re-derives any part of it.

A notebook run on its own (JupyterLab, nbval) resolves the same scope from its default
parameters with the same function, so both paths give one answer.

:func:`our_sales` reads our sales restricted to the scope's category.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Scope", "ScopeError", "resolve_scope", "our_sales"]


class ScopeError(ValueError):
    """The scope was refused; the message lists every problem with the nearest valid names."""


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
        How our sales are tied to the category, in words ("" when there are none).
    our_items : tuple of str
        Our item ids in the category (what :func:`our_sales` keeps when sales carry no
        category column).
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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples as lists), for papermill and ``manifest.json``."""
        out = asdict(self)
        out["competitors"] = list(self.competitors)
        out["our_items"] = list(self.our_items)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Scope:
        """The scope :meth:`to_dict` wrote."""
        data = dict(values)
        data["competitors"] = tuple(data.get("competitors") or ())
        data["our_items"] = tuple(data.get("our_items") or ())
        return cls(**data)


def resolve_scope(warehouse: str | os.PathLike[str], category: str, week: str = "",
                  shop: str = "", competitors: list[str] | tuple[str, ...] = (),
                  top_n: int = 5, currency: str = "") -> Scope:
    """Resolve and check a study's scope against the warehouse (skeleton: see issue 14)."""
    raise NotImplementedError


def our_sales(warehouse: str | os.PathLike[str], scope: Scope) -> pd.DataFrame:
    """Our sales rows of the scope's category up to its week's Sunday (skeleton)."""
    raise NotImplementedError
