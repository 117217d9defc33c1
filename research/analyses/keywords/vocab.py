"""The category's vocabulary found from the data: head words, modifiers and brands.

Used by :mod:`research.analyses.keywords.segment` when a category has no dictionary under
``templates/dictionaries/`` (and, with one, for the words the dictionary does not list). Nothing
here knows any category; every rule reads the terms themselves (and the item listings when the
warehouse has them):

1. **Words** (:func:`discover_words`). Search terms are short combinations of a few units
   (``冰丝防晒衣女`` = 冰丝 + 防晒衣 + 女). A string of 2–8 characters is a word when it occurs in
   at least ``min_terms`` terms, is not a fragment of a longer string (no one-character
   extension occurs in ≥ 90 % of its terms: ``锈钢`` is always ``不锈钢``) and is not a
   combination of two or more other words (``不锈钢保温杯`` = 不锈钢 + 保温杯). The words are
   added to a private jieba tokenizer so they stay whole. Numbers with a unit (``500ml``,
   ``2米``, ``65w``, ``20000毫安``, ``500g``) are tokens of their own (:data:`SPEC`).
2. **Head words** (核心词, :func:`head_words`). The category name's words come first when the
   terms contain them (``坚果礼盒`` → 坚果, 礼盒). Then, greedily, the word that covers the most
   popularity among the terms no head covers yet, provided it is **exclusive** (at most
   ``max_overlap`` of its popularity lies in terms that already hold a head word: a modifier
   such as 大容量 rides on the heads, a head such as 焖烧杯 stands beside them), sits at the end
   of its terms or forms a term on its own in most of its occurrences (Chinese noun phrases end
   with their head), and occurs in ``min_terms`` terms. A term that is a single word ending in a
   head's last character (``咖啡杯`` beside ``保温杯``) is a head too.
3. **Brands** (品牌词, :func:`brand_words`). From the listings: shop names without their
   suffix (``膳魔师官方旗舰店`` → 膳魔师) and words that open many titles (at least
   ``min_listings`` listings, ≥ 60 % of their title occurrences at the start, ≥ 80 % of those
   listings in at most three shops), kept when the search terms contain them. From the terms
   alone: a word that is a whole term, also opens a term right before a head word, is no head,
   contains none, and is not in jieba's general dictionary (a made-up name, not a common word).
4. **Modifiers** (修饰词): every other word found in at least ``min_terms`` terms, and every
   number with a unit. Without a dictionary their kind is generic (``generic``, 修饰词) except
   numbers with a unit (``capacity`` for volumes, ``spec`` for other units) and brands.

Examples
--------
>>> terms = ["防晒衣", "防晒衣女", "冰丝防晒衣", "冰丝防晒衣女", "防晒衣男", "冰丝防晒衣男",
...          "upf50+防晒衣", "防晒衣女长款", "长款防晒衣", "防晒服", "防晒服女"]
>>> v = infer_vocabulary(terms, category="防晒衣")
>>> v.core[:2], sorted(v.kinds["generic"])
(['防晒衣', '防晒服'], ['冰丝', '女', '长款'])

``女`` follows two head words that are terms (防晒衣女, 防晒服女), so it is a free character
(:func:`free_chars`); ``男`` follows only 防晒衣 here and ``upf50+`` is in one term, so neither is
taken from eleven terms.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["SPEC", "VOLUME", "Vocabulary", "discover_words", "head_words", "brand_words",
           "infer_vocabulary", "split_term", "shop_stem", "tokenizer", "free_chars"]

_UNITS = (r"ml|毫升|l|升|oz|cl|kg|公斤|g|克|斤|mah|毫安时|毫安|w|瓦|v|伏|a|安|米|cm|厘米|mm|毫米|m|"
          r"寸|英寸|码|岁|个月|件|支|只|包|袋|盒|罐|片|粒|条|双|瓶|天|度|℃|gb|tb|g|hz|p|k")
#: a number with a unit, e.g. 500ml, 1.5升, 2米, 65w, 20000毫安, 500g, 30包
SPEC = re.compile(rf"\d+(?:\.\d+)?\s*(?:{_UNITS})(?![a-z])", re.IGNORECASE)
#: volume units: a number with one of them is a capacity
VOLUME = re.compile(r"^\d+(\.\d+)?(ml|l|毫升|升|oz|cl)$", re.IGNORECASE)
_ASCII = re.compile(r"[a-z0-9][a-z0-9+\-.]*", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]+")
_SHOP_SUFFIX = re.compile(r"(官方旗舰店|旗舰店|官方店|专营店|专卖店|企业店|的小店|小店|工作室|生活馆|"
                          r"家居店|旗舰|店铺|店)$")


def split_term(term: str) -> list[tuple[str, str]]:
    """Split a term into runs: ``("spec", "500ml")``, ``("ascii", "type-c")``, ``("cjk", "保温杯")``.

    Examples
    --------
    >>> split_term("Type-C快充线 2米")
    [('ascii', 'type-c'), ('cjk', '快充线'), ('spec', '2米')]
    """
    text = str(term).lower()
    out: list[tuple[str, str]] = []
    pos = 0
    for match in SPEC.finditer(text):
        out += _plain_runs(text[pos:match.start()])
        out.append(("spec", re.sub(r"\s+", "", match.group(0))))
        pos = match.end()
    out += _plain_runs(text[pos:])
    return out


def _plain_runs(text: str) -> list[tuple[str, str]]:
    runs: list[tuple[str, str]] = []
    for match in re.finditer(r"[\u3400-\u9fff]+|[a-z0-9][a-z0-9+\-.]*", text):
        piece = match.group(0).rstrip("-.")
        if piece:
            runs.append(("cjk" if _CJK.fullmatch(piece) else "ascii", piece))
    return runs


def shop_stem(shop: str) -> str:
    """A shop's name without its kind (``膳魔师官方旗舰店`` → ``膳魔师``)."""
    stem = str(shop).strip().lower()
    for _ in range(2):
        stem = _SHOP_SUFFIX.sub("", stem)
    return stem


def discover_words(terms: Sequence[str], min_terms: int = 2, max_len: int = 8,
                   fragment: float = 0.9, keep: Iterable[str] = ()) -> dict[str, int]:
    """Words of the terms' Chinese runs with the number of terms each occurs in.

    Parameters
    ----------
    terms : sequence of str
    min_terms : int
        Least number of terms a word occurs in.
    max_len : int
        Longest word (characters).
    fragment : float
        A string is a fragment when a one-character extension occurs in this share of its terms.
    keep : iterable of str
        Words kept whatever the rules say (the dictionary's, the category name's).

    Returns
    -------
    dict
        Word → number of terms containing it.
    """
    df: Counter[str] = Counter()
    runs_of = [[r for kind, r in split_term(t) if kind == "cjk"] for t in terms]
    for runs in runs_of:
        seen: set[str] = set()
        for run in runs:
            n = len(run)
            for i in range(n):
                for j in range(i + 1, min(n, i + max_len + 1) + 1):
                    seen.add(run[i:j])
        df.update(seen)
    cand = {s: c for s, c in df.items() if len(s) >= 2 and c >= min_terms}
    ext: dict[str, int] = defaultdict(int)  # largest df of a one-character extension
    for s, c in df.items():
        if len(s) >= 3:
            for sub in (s[1:], s[:-1]):
                if sub in cand and c > ext[sub]:
                    ext[sub] = c
    words = {s: c for s, c in cand.items() if ext.get(s, 0) < fragment * c}
    keep = {str(k).lower() for k in keep if str(k)}
    # a single character is "free" when it sits beside two or more different words
    # (女 in 防晒衣女, 防晒服女); 壶 in 保温壶 beside 保温 only is part of its word
    free = free_chars(words, terms)
    # strip a word at least twice as common from a longer one: the rest is a word of its own
    # (冰丝防晒衣 = 冰丝 + 防晒衣; 不锈钢保温杯 = 不锈钢 + 保温杯)
    queue = sorted(words, key=lambda x: (len(x), x))
    while queue:
        s = queue.pop()
        if s in keep or s not in words:
            continue
        parts = _strip(s, words, free, keep)
        if parts is not None:
            del words[s]
            for r in parts:
                if len(r) >= 2 and r not in words:
                    words[r] = df.get(r, 0)
                    queue.append(r)
    # drop a word that mostly straddles a more common one (杯女 across 保温杯|女, 水杯|女), and a
    # character glued to a word at least twice as common that never starts (ends) a run there
    # (款防晒衣 in 长款防晒衣, 短款防晒衣)
    straddle: Counter[str] = Counter()
    at_start: Counter[str] = Counter()
    at_end: Counter[str] = Counter()
    for run in (r for rs in runs_of for r in rs):
        found = [(i, u) for i, u in _substrings(run, max_len) if u in words]
        for i, u in found:
            at_start[u] += i == 0
            at_end[u] += i + len(u) == len(run)
            if any(words[w] > words[u] and (k < i < k + len(w) < i + len(u)
                                            or i < k < i + len(u) < k + len(w))
                   for k, w in found):
                straddle[u] += 1
    for u in list(words):
        if u in keep:
            continue
        glued = (len(u) >= 3 and ((words.get(u[1:], 0) >= 2 * words[u] and not at_start[u])
                                  or (words.get(u[:-1], 0) >= 2 * words[u] and not at_end[u])))
        if glued or straddle[u] > 0.5 * words[u]:
            del words[u]
    # drop combinations of other words (longest first, against the words kept so far)
    for s in sorted(words, key=len, reverse=True):
        if s in keep:
            continue
        if _composed(s, words.keys() | keep):
            del words[s]
    for k in keep:
        if _CJK.fullmatch(k):
            words.setdefault(k, df.get(k, 0))
    return words


def _substrings(s: str, max_len: int = 8):
    """(start, substring) of ``s`` with two to ``max_len`` characters."""
    for i in range(len(s)):
        for j in range(i + 2, min(len(s), i + max_len) + 1):
            yield i, s[i:j]


def free_chars(words: Iterable[str], terms: Iterable[str]) -> set[str]:
    """Characters that follow or precede two or more different words that are search terms on
    their own (女 in 防晒衣女 and 防晒服女); 杯 after 保温 or 吸管, which are no terms, is not free."""
    terms = [str(t).lower() for t in terms]
    whole = set(terms)
    heads = {w for w in words if w in whole and len(w) >= 2}
    beside: dict[str, set[str]] = defaultdict(set)
    for t in terms:
        for i, w in _substrings(t):
            if w in heads:
                for j, far in ((i - 1, i - 2), (i + len(w), i + len(w) + 1)):
                    if _alone_at(t, j, far):
                        beside[t[j]].add(w)
        for m in re.finditer(r"[a-z0-9][a-z0-9+\-.]*", t):  # ins风: 风 beside a Latin word
            for j, far in ((m.start() - 1, m.start() - 2), (m.end(), m.end() + 1)):
                if _alone_at(t, j, far):
                    beside[t[j]].add(m.group(0))
    return {c for c, ws in beside.items() if len(ws) >= 2}


def _alone_at(t: str, j: int, far: int) -> bool:
    """Whether ``t[j]`` is a Chinese character with nothing Chinese beyond it at ``far``."""
    return 0 <= j < len(t) and bool(_CJK.fullmatch(t[j])) and not (
        0 <= far < len(t) and _CJK.fullmatch(t[far]))


def _strip(s: str, words: dict[str, int], free: set[str], keep: set[str]) -> list[str] | None:
    """The rest of ``s`` around the most common word inside it that is at least twice as
    common, when every rest is two or more characters or a free character and no other word
    at least half as common spans a cut; else None."""
    inside = [(i, u) for i, u in _substrings(s) if u != s and u in words]
    best = None
    for i, w in inside:
        c = words[w]
        if c < 2 * words[s] and w not in keep:
            continue
        cuts = [p for p in (i, i + len(w)) if 0 < p < len(s)]
        if any(u != w and 2 * words[u] >= c and k < p < k + len(u) for k, u in inside for p in cuts):
            continue
        rest = [r for r in (s[:i], s[i + len(w):]) if r]
        if all(len(r) >= 2 or r in free for r in rest) and (best is None or c > best[0]):
            best = (c, rest)
    return None if best is None else best[1]


def _composed(s: str, words: dict[str, int] | set[str]) -> bool:
    """Whether ``s`` is a sequence of two or more other words of ``words``."""
    n = len(s)
    ok = [False] * (n + 1)
    ok[0] = True
    for j in range(1, n + 1):
        for i in range(max(0, j - 8), j):
            if ok[i] and (i > 0 or j < n) and s[i:j] in words:
                ok[j] = True
                break
    return ok[n]


@lru_cache(maxsize=8)
def _tokenizer(words: tuple[str, ...]):
    """A private jieba tokenizer with ``words`` added at a high frequency (loading jieba's model
    takes about a second, so one tokenizer per word list is kept for the process)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for word in sorted(words, key=len, reverse=True):
        tok.add_word(word, freq=10 ** 7 + len(word))
    return tok


def tokenizer(words: Iterable[str]) -> Callable[[str], list[tuple[str, str]]]:
    """A function giving a term's tokens ``(kind, token)`` (kind spec/ascii/cjk): numbers with
    a unit and Latin words by pattern, Chinese runs cut by jieba with ``words`` kept whole;
    a word mixing Latin letters or digits with Chinese (``316不锈钢``) is matched first.

    Examples
    --------
    >>> tokenizer(["316不锈钢", "保温杯"])("316不锈钢保温杯 500ml")
    [('cjk', '316不锈钢'), ('cjk', '保温杯'), ('spec', '500ml')]
    """
    vocab = sorted({str(w).lower() for w in words if str(w).strip()})
    tok = _tokenizer(tuple(vocab))
    mixed = sorted((w for w in vocab if _CJK.search(w) and re.search(r"[a-z0-9]", w)),
                   key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, mixed))) if mixed else None

    def cut(text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for kind, run in split_term(text):
            if kind != "cjk":
                out.append((kind, run))
            else:
                out += [("cjk", t) for t in tok.lcut(run, HMM=False) if t.strip()]
        return out

    def tokens(term: str) -> list[tuple[str, str]]:
        text = str(term).lower()
        if pattern is None:
            return cut(text)
        out: list[tuple[str, str]] = []
        pos = 0
        for match in pattern.finditer(text):
            out += cut(text[pos:match.start()])
            out.append(("cjk", match.group(0)))
            pos = match.end()
        return out + cut(text[pos:])

    return tokens


def _jieba_knows(word: str) -> bool:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0) > 0


@dataclass
class Vocabulary:
    """What the data says about a category's words.

    Attributes
    ----------
    core : list of str
        Head words, most popular first.
    kinds : dict
        ``brand`` and ``generic`` modifier words (numbers with a unit are recognised by
        pattern, not listed).
    words : list of str
        Every word found (kept whole by the tokenizer).
    evidence : dict
        Word → why it was taken as a head or a brand (shown in the report).
    """

    core: list[str] = field(default_factory=list)
    kinds: dict[str, list[str]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)


def head_words(tokens: list[list[str]], weights: np.ndarray, category: list[str],
               min_terms: int = 2, max_overlap: float = 0.25, min_end: float = 0.5,
               exclude: Iterable[str] = ()) -> tuple[list[str], dict[str, str]]:
    """Head words of tokenised terms (see the module docstring, rule 2).

    Parameters
    ----------
    tokens : list of list of str
        Each term's word tokens (Chinese words and Latin words; numbers with units removed).
    weights : ndarray
        Each term's popularity (1 each when unknown).
    category : list of str
        The category name's words (seeds when the terms contain them).
    min_terms, max_overlap, min_end :
        A head occurs in ``min_terms`` terms, has at most ``max_overlap`` of its popularity in
        terms already holding a head, and ends its term or is the whole term in at least
        ``min_end`` of its occurrences.
    exclude : iterable of str
        Words that cannot be heads (brands).

    Returns
    -------
    (list, dict)
        Heads (in the order found) and why each was taken.
    """
    w = np.asarray(weights, dtype=float)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0) + 1e-9
    exclude = set(exclude)
    where: dict[str, list[int]] = defaultdict(list)
    end: Counter[str] = Counter()
    alone: set[str] = set()
    for i, toks in enumerate(tokens):
        for t in dict.fromkeys(toks):
            where[t].append(i)
        if toks:
            end[toks[-1]] += 1
            if len(toks) == 1:
                alone.add(toks[0])
    total = float(w.sum())
    heads: list[str] = []
    why: dict[str, str] = {}
    covered = np.zeros(len(tokens), dtype=bool)

    def eligible(t: str) -> bool:
        return (t not in exclude and len(t) >= 2 and not t.isdigit()
                and len(where[t]) >= min_terms)

    for t in category:
        if t in where and eligible(t) and t not in heads:
            heads.append(t)
            covered[where[t]] = True
            why[t] = (f"类目名中的词，见于 {len(where[t])} 个词（人气占 {w[where[t]].sum() / total:.0%}）"
                      f" · a word of the category name, in {len(where[t])} terms")
    while True:
        best, gain = "", 0.0
        for t, rows in where.items():
            if t in heads or not eligible(t):
                continue
            idx = np.asarray(rows)
            ends = end[t] / len(rows)
            if ends < min_end:
                continue
            inside = w[idx].sum()
            overlap = w[idx][covered[idx]].sum() / inside
            if overlap > max_overlap:
                continue
            g = w[idx][~covered[idx]].sum()
            if (~covered[idx]).sum() >= min_terms and g > gain:
                best, gain = t, g
        if not best:
            break
        idx = np.asarray(where[best])
        heads.append(best)
        why[best] = (f"覆盖其余词人气的 {gain / total:.0%}，{len(idx)} 个词，多在词尾 · covers "
                     f"{gain / total:.0%} of the popularity no head covered, in {len(idx)} terms, "
                     "mostly at the end")
        covered[idx] = True
    lasts = {h[-1] for h in heads}
    for t in sorted(alone):
        if t not in heads and t not in exclude and len(t) >= 2 and t[-1] in lasts \
                and not any(h in t for h in heads):
            heads.append(t)
            why[t] = (f"单独成词，且与核心词同尾字「{t[-1]}」 · a term on its own ending like a head word")
    return heads, why


def brand_words(words: dict[str, int], tokens: list[list[str]], heads: Sequence[str],
                titles: Sequence[str] = (), shops: Sequence[str] = (),
                min_listings: int = 3, from_terms: bool = True) -> tuple[list[str], dict[str, str]]:
    """Brand words (see the module docstring, rule 3).

    Parameters
    ----------
    words : dict
        The terms' words (:func:`discover_words`) with their term counts.
    tokens : list of list of str
        Each term's tokens.
    heads : sequence of str
        Head words (never brands).
    titles, shops : sequences of str
        The category's listings: each listing's title and shop (same length), when the data
        has them; shop names alone also serve.
    min_listings : int
        Least number of listings whose titles open with a word for it to be a brand.
    from_terms : bool
        Also take brands from the terms alone (needs the heads).

    Returns
    -------
    (list, dict)
        Brands and why each was taken.
    """
    head_set = set(heads)
    term_text = [" ".join(t) for t in tokens]
    in_terms = Counter(t for toks in tokens for t in set(toks))
    why: dict[str, str] = {}

    def usable(b: str) -> bool:
        return len(b) >= 2 and b not in head_set and not any(h in b for h in head_set) \
            and not b.isdigit()

    pairs = list(zip(titles, shops, strict=False)) if len(titles) == len(shops) else \
        [(t, "") for t in titles]
    opening: dict[str, Counter[str]] = defaultdict(Counter)  # word → shops of listings it opens
    anywhere: Counter[str] = Counter()
    for title, shop in dict.fromkeys((str(t).lower(), str(s)) for t, s in pairs if t):
        for _, w in _substrings(title[:12]):
            if w in words and title.startswith(w):
                opening[w][shop] += 1
        for w in {w for _, w in _substrings(title) if w in words}:
            anywhere[w] += 1
    stems = {shop_stem(x) for x in shops if x}
    for stem in sorted(stems):
        if usable(stem) and len(stem) <= 8 and (in_terms[stem] or any(stem in t for t in term_text)) \
                and (not _jieba_knows(stem) or sum(opening[stem].values()) >= min_listings):
            why[stem] = f"店铺名「{stem}…店」 · a shop's name"
    for w, by_shop in opening.items():
        n = sum(by_shop.values())
        top = sum(c for _, c in by_shop.most_common(3))
        if w not in why and usable(w) and n >= min_listings and n >= 0.6 * anywhere[w] \
                and top >= 0.8 * n and in_terms[w]:
            why[w] = (f"{n} 个商品标题以它开头，集中在 {len(by_shop)} 家店 · opens {n} listings' "
                      f"titles, of {len(by_shop)} shop(s)")
    before_head = Counter(toks[0] for toks in tokens if len(toks) > 1 and toks[1] in head_set)
    for toks in tokens if from_terms else ():
        if len(toks) == 1:
            t = toks[0]
            if t not in why and usable(t) and before_head[t] and _CJK.fullmatch(t) \
                    and not _jieba_knows(t):
                why[t] = ("单独成词、也放在核心词前、不是常用词 · a term of its own, also opening a "
                          "term before a head word, no common word")
    return sorted(why, key=lambda b: -in_terms[b]), why


def infer_vocabulary(terms: Sequence[str], weights: Sequence[float] | None = None,
                     category: str = "", titles: Sequence[str] = (), shops: Sequence[str] = (),
                     keep: Iterable[str] = (), min_terms: int | None = None,
                     exclude_heads: Iterable[str] = ()) -> Vocabulary:
    """Head words, brands and modifiers of a category from its terms (and listings).

    Parameters
    ----------
    terms : sequence of str
    weights : sequence of float, optional
        Each term's popularity (e.g. its mean weekly level); equal weights when omitted.
    category : str
        The category's name (a hint for the head words, not required to occur).
    titles, shops : sequences of str
        The category's listing titles and shop names, when the data has them.
    keep : iterable of str
        Words to keep whole (a dictionary's).
    min_terms : int, optional
        Least number of terms for a word, head or modifier; default ``max(2, n / 1000)``.
    exclude_heads : iterable of str
        Words that must not be heads (a dictionary's modifiers).

    Returns
    -------
    Vocabulary
    """
    terms = [str(t) for t in terms]
    n = len(terms)
    if min_terms is None:
        min_terms = max(2, int(math.ceil(n / 1000)))
    wts = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    cat = str(category or "").lower()
    keep = [str(k).lower() for k in keep]
    words = discover_words(terms, min_terms=min_terms, keep=keep)
    # the titles' words help keep brand names whole
    shop_words = {shop_stem(s) for s in shops if s}
    extra = [s for s in shop_words if len(s) >= 2 and any(s in t.lower() for t in terms)]
    vocab_words = sorted(set(words) | set(extra) | set(keep))
    cut = tokenizer(vocab_words)
    toks = [[t for kind, t in cut(term) if kind != "spec"] for term in terms]
    cat_tokens = [t for kind, t in cut(cat) if kind == "cjk"]
    if cat and cat not in cat_tokens and any(cat in " ".join(t) for t in toks):
        cat_tokens = [cat, *cat_tokens]
    listed, _ = brand_words(words, toks, heads=[], titles=titles, shops=shops, from_terms=False)
    heads, head_why = head_words(toks, wts, cat_tokens, min_terms=min_terms,
                                 exclude=set(listed) | set(exclude_heads))
    brands, brand_why = brand_words(words, toks, heads=heads, titles=titles, shops=shops)
    df = Counter(t for tt in toks for t in set(tt))
    generic = sorted(t for t, c in df.items() if c >= min_terms and t not in heads
                     and t not in brands and (len(t) >= 2 or t in free_chars(words, terms)))
    evidence = {**{b: brand_why[b] for b in brands}, **head_why}
    return Vocabulary(core=heads, kinds={"brand": brands, "generic": generic},
                      words=vocab_words, evidence=evidence)
