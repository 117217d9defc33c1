"""Segmenting search terms into the core noun and its modifiers (used by :mod:`research.analyses.keywords.analysis`).

The words come from the data first (:mod:`research.analyses.keywords.vocab`,
:class:`~research.analyses.keywords.vocab.Vocabulary`): head words found as the terms' common
core, brands from the listings and the terms, modifiers that occur in several terms (kind
``generic``, 修饰词). A category dictionary (``templates/dictionaries/<category>.yaml``) only
refines that: it lists the core nouns (核心词) and modifier words by kind (material, capacity,
audience, style, function, brand); its words are kept whole and looked up first, so a word the
dictionary lists gets the dictionary's kind and canonical spelling. Numbers with a unit are
recognised by pattern: volumes (``500ml``, ``1.5升``) as ``capacity``, any other unit
(``2米``, ``65w``, ``500g``) as ``spec`` (规格). Tokens found nowhere are kept as
``other_words``.

Term kinds (metrics.md, "Search terms"): ``core`` — only the product noun; ``brand`` — names a
brand; ``modifier`` — the noun (or none) plus one modifier; ``long_tail`` — two or more modifiers
or words neither the data nor the dictionary place. With neither a dictionary nor a head word
found in the data (e.g. a one-term English Google Trends export), all kinds are ``unknown``.

The modifier words are then summed over the weekly panel (:mod:`research.analyses.keywords.panel`):
:func:`modifier_shares` gives each modifier's weekly share of the category's summed daily index
(a share of an index sum, not of searches) and :func:`modifier_changes` which modifiers gain or
lose share.

Examples
--------
>>> d = SegmentDictionary(core=["保温杯"], kinds={"material": ["316不锈钢"], "audience": ["女"]})
>>> seg = segment_terms(["316不锈钢保温杯女", "保温杯"], d)
>>> seg[["keyword", "core", "material", "audience", "term_kind"]].values.tolist()
[['316不锈钢保温杯女', '保温杯', '316不锈钢', '女', 'long_tail'], ['保温杯', '保温杯', '', '', 'core']]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml

from research.analyses.keywords.vocab import VOLUME, Vocabulary, tokenizer
from research.config import TEMPLATES_DIR

if TYPE_CHECKING:
    from research.analyses.keywords.panel import WeeklyPanel

__all__ = ["SegmentDictionary", "MODIFIER_KINDS", "KIND_LABELS", "load_dictionary", "segment_terms",
           "jaccard", "segment_sets", "modifier_shares", "modifier_changes"]

#: modifier kinds in the order of the result columns (a dictionary may add more); ``spec``
#: (numbers with a unit other than a volume) and ``generic`` (modifiers found in the data that
#: no dictionary names) were added for issue 16, after the six older kinds
MODIFIER_KINDS = ["material", "capacity", "audience", "style", "function", "brand", "spec",
                  "generic"]
#: Chinese names of the kinds, for the page
KIND_LABELS = {"core": "核心词", "material": "材质", "capacity": "容量", "audience": "人群",
               "style": "风格", "function": "功能", "brand": "品牌", "spec": "规格",
               "generic": "修饰词"}

_SKIP = re.compile(r"^[\s\W_]*$")


@dataclass
class SegmentDictionary:
    """A category's core nouns and modifier words by kind.

    Parameters
    ----------
    core : list of str
        Product nouns.
    kinds : dict
        Modifier kind → words.
    synonyms : dict
        Variant → canonical modifier word (``女士`` → ``女``).
    source : str
        Where it was read from (shown in the report).
    """

    core: list[str] = field(default_factory=list)
    kinds: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def lookup(self) -> dict[str, tuple[str, str]]:
        """Map each known word (lower-cased) to ``(kind, canonical word)``; first kind wins."""
        out: dict[str, tuple[str, str]] = {}
        for word in self.core:
            out.setdefault(str(word).lower(), ("core", str(word)))
        for kind, words in self.kinds.items():
            for word in words:
                w = str(word)
                out.setdefault(w.lower(), (kind, str(self.synonyms.get(w, w))))
        return out

    @property
    def words(self) -> list[str]:
        """Every word of the dictionary (for jieba's user dictionary)."""
        return [str(w) for w in self.core] + [str(w) for ws in self.kinds.values() for w in ws]


def load_dictionary(category: str, path: str | os.PathLike[str] | None = None
                    ) -> SegmentDictionary | None:
    """Read ``templates/dictionaries/<category>.yaml`` (or ``path``); ``None`` when absent.

    Parameters
    ----------
    category : str
        The category whose dictionary to read.
    path : path-like, optional
        A dictionary file or a folder of ``<category>.yaml`` files.
    """
    target = Path(path) if path else TEMPLATES_DIR / "dictionaries"
    if target.is_dir():
        target = target / f"{category}.yaml"
    if not target.exists():
        return None
    data = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
    core = [str(w) for w in data.pop("core", None) or []]
    synonyms = {str(k): str(v) for k, v in (data.pop("synonyms", None) or {}).items()}
    kinds = {str(k): [str(w) for w in (v or [])] for k, v in data.items()}
    return SegmentDictionary(core, kinds, synonyms, str(target))


def segment_terms(terms: Iterable[str], dictionary: SegmentDictionary | None,
                  vocabulary: Vocabulary | None = None) -> pd.DataFrame:
    """Split each term into its core noun and modifiers.

    Parameters
    ----------
    terms : iterable of str
    dictionary : SegmentDictionary or None
        The category's dictionary: its words are kept whole and take its kinds.
    vocabulary : Vocabulary, optional
        What the data says (:func:`~research.analyses.keywords.vocab.infer_vocabulary`): head
        words, brands and generic modifiers for every word the dictionary does not list.

    Returns
    -------
    DataFrame
        One row per distinct term: ``keyword``, ``segments`` (space-joined tokens), ``core``,
        one column per modifier kind (``+``-joined canonical words, ``""`` when none),
        ``other_words`` and ``term_kind``.
    """
    unique = list(dict.fromkeys(str(t) for t in terms))
    kinds = list(MODIFIER_KINDS)
    if dictionary is not None:
        kinds += [k for k in dictionary.kinds if k not in kinds]
    lookup: dict[str, tuple[str, str]] = {}
    if vocabulary is not None:
        for word in vocabulary.kinds.get("generic", []):
            lookup[word.lower()] = ("generic", word)
        for word in vocabulary.kinds.get("brand", []):
            lookup[word.lower()] = ("brand", word)
        for word in vocabulary.core:
            lookup[word.lower()] = ("core", word)
    if dictionary is not None:
        lookup.update(dictionary.lookup())  # the dictionary's kinds win
    words = (dictionary.words if dictionary is not None else []) + \
        (vocabulary.words if vocabulary is not None else [])
    cut = tokenizer(words)
    placed = dictionary is not None or (vocabulary is not None and bool(vocabulary.core))
    rows = []
    for term in unique:
        tokens = [(k, t.strip()) for k, t in cut(term)]
        tokens = [(k, t) for k, t in tokens if t and not _SKIP.match(t)]
        found: dict[str, list[str]] = {k: [] for k in ["core", *kinds]}
        other: list[str] = []
        for k, t in tokens:
            hit = lookup.get(t.lower())
            if hit is None and k == "spec":
                hit = ("capacity" if VOLUME.match(t) else "spec", t.lower())
            if hit is None:
                other.append(t)
            elif hit[1] not in found[hit[0]]:
                found[hit[0]].append(hit[1])
        n_mod = sum(len(found[k]) for k in kinds)
        if not placed:
            kind = "unknown"
        elif found["brand"]:
            kind = "brand"
        elif found["core"] and n_mod == 0 and not other:
            kind = "core"
        elif n_mod == 1 and not other:
            kind = "modifier"
        else:
            kind = "long_tail"
        row = {"keyword": term, "segments": " ".join(t for _, t in tokens),
               "core": "+".join(found["core"])}
        row.update({k: "+".join(found[k]) for k in kinds})
        row["other_words"] = " ".join(other)
        row["term_kind"] = kind
        rows.append(row)
    columns = ["keyword", "segments", "core", *kinds, "other_words", "term_kind"]
    return pd.DataFrame(rows, columns=columns)


def segment_sets(segments: Sequence[str]) -> list[frozenset[str]]:
    """Turn space-joined segments into sets of lower-cased words (for :func:`jaccard`)."""
    return [frozenset(str(s).lower().split()) for s in segments]


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Share of words two terms have in common: ``|a ∩ b| / |a ∪ b|`` (0 when both empty).

    Examples
    --------
    >>> jaccard({"保温杯", "女"}, {"保温杯", "男"})
    0.3333333333333333
    """
    union = len(a | b)
    return len(a & b) / union if union else 0.0


# ------------------------------------------------------------------------- modifier shares

def modifier_shares(panel: WeeklyPanel, segments: pd.DataFrame) -> pd.DataFrame:
    """Each modifier's share of the category's summed daily index, per week.

    ``index_share`` = Σ daily 搜索人气 of the terms containing the modifier / Σ daily 搜索人气
    of all terms, in the week. It is a share of an index sum (labelled so in the report), not a
    share of searches. A term with several modifiers counts towards each.
    """
    seg = segments.set_index("keyword").reindex(pd.Index(panel.terms, name="keyword"))
    kinds = [k for k in seg.columns if k in MODIFIER_KINDS or k not in
             ("segments", "core", "other_words", "term_kind")]
    columns = ["modifier_kind", "modifier", "week", "week_start", "index_share", "n_terms"]
    labels: list[tuple[str, str]] = []
    rows_t: list[np.ndarray] = []
    rows_k: list[np.ndarray] = []
    for kind in kinds:
        values = seg[kind].fillna("").astype(str).reset_index(drop=True).str.split("+").explode()
        values = values[values != ""]
        codes, uniques = pd.factorize(values, sort=True)
        rows_t.append(values.index.to_numpy())
        rows_k.append(codes + len(labels))
        labels += [(kind, str(u)) for u in uniques]
    if not labels or not len(panel.weeks):
        return pd.DataFrame(columns=columns)
    member = np.zeros((len(labels), len(panel.terms)))
    member[np.concatenate(rows_k), np.concatenate(rows_t)] = 1.0
    total = panel.index_sum.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (member @ panel.index_sum) / np.where(total > 0, total, np.nan)
    counts = member @ (panel.days > 0)
    k, m = share.shape
    return pd.DataFrame({
        "modifier_kind": np.repeat([p[0] for p in labels], m),
        "modifier": np.repeat([p[1] for p in labels], m),
        "week": np.tile(panel.week_labels, k),
        "week_start": np.tile(panel.weeks.to_numpy(), k),
        "index_share": share.ravel(),
        "n_terms": counts.ravel().astype(int),
    }, columns=columns)


def modifier_changes(shares: pd.DataFrame, recent: int = 4) -> pd.DataFrame:
    """Which modifiers gain or lose share: the last ``recent`` weeks' mean share against the
    same weeks a year earlier (``basis`` = "vs last year"), or, without a year, against the
    ``recent`` weeks ending 13 weeks before (``basis`` = "vs 13 weeks earlier")."""
    cols = ["modifier_kind", "modifier", "share_recent", "share_before", "change_pp", "basis"]
    if shares.empty:
        return pd.DataFrame(columns=cols)
    wide = shares.pivot_table(index=["modifier_kind", "modifier"], columns="week_start",
                              values="index_share", aggfunc="first").sort_index(axis=1)
    m = wide.shape[1]
    lag, basis = (52, "vs last year") if m >= 52 + recent else (13, "vs 13 weeks earlier")
    if m < lag + recent:
        lag, basis = m - recent, f"vs {m - recent} weeks earlier"
    if lag <= 0:
        return pd.DataFrame(columns=cols)
    now = wide.iloc[:, m - recent:].mean(axis=1)
    before = wide.iloc[:, m - recent - lag:m - lag].mean(axis=1)
    out = pd.DataFrame({"share_recent": now, "share_before": before}).reset_index()
    out["change_pp"] = (out["share_recent"] - out["share_before"]) * 100
    out["basis"] = basis
    return out.sort_values("change_pp", ascending=False, ignore_index=True)[cols]
