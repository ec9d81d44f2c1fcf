"""An in-memory BM25 index of one namespace's texts, scored as SQLite FTS5's ``bm25()``.

The embedded store answers :meth:`~graphmem.store.base.Store.text_search` from one of these per
(namespace, kind) rather than by an FTS5 match. FTS5 keeps one index for the whole file, so a
match read every namespace's postings and ranked them before keeping the namespace's (27 ms a
question in a file of 60 chat histories, four times the whole dense search). Here a search reads
only the namespace's postings; the word statistics (how many texts hold a word, the mean length)
are the index's own, or a larger corpus's (:class:`CorpusStats`: the SQLite store passes its
file's, as FTS5 weighs words).

Words are cut as FTS5's ``unicode61`` tokenizer cuts them (letters and digits of any script;
case folded, and one diacritic on a Latin letter; no compatibility folding, so "ﬁ" and "½" stay)
and stemmed by the Porter algorithm, as its ``porter`` tokenizer does. One difference is left: a
word that keeps a non-ASCII letter is stemmed by the Snowball Porter, which leaves it as it is,
where FTS5's Porter reads its bytes ("straße" stays, FTS5 makes it "straß"). The score is FTS5's (k1 = 1.2, b = 0.75; a word in more than half the texts
counts 1e-6): each word of the query is an OR-ed term, so two words with one stem count twice, as
FTS5 counts two phrases. Ties go to the smaller id, as ``ORDER BY rank, id`` does.

Texts are appended as they are written; a text that changes drops the index, which is built again
from the store on the next search.

>>> index = TextIndex()
>>> index.add([("a", "Paris is the capital of France."), ("b", "Berlin is in Germany.")])
>>> [i for i, _ in index.search(["capital", "cities"], 5)]
['a']
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np

__all__ = ["CorpusStats", "TextIndex", "tokens"]

K1 = 1.2
B = 0.75
#: what a word found in more than half the texts weighs (FTS5's floor for a negative IDF)
MIN_IDF = 1e-6

_WORD = re.compile(r"[^\W_]+")
_LOCAL = threading.local()


def _stemmer() -> Any:
    # one per thread: a PyStemmer object must not be called from two threads at once (stores
    # each hold their own lock, so two stores may stem at the same time); loaded on first use
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("porter")
    return stemmer


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """One character as ``unicode61`` (remove_diacritics=1) reads it: a Latin letter with one
    diacritic loses it, a combining diacritic inside a word is dropped, then lower case, one
    character at a time (no compatibility folding: "ﬁ", "２" and "½" stay as they are)."""
    if "\u0300" <= c <= "\u036f":
        return ""
    parts = unicodedata.normalize("NFD", c)
    if len(parts) == 2 and parts[0].isascii() and parts[0].isalpha():
        c = parts[0]  # one mark on a Latin letter; two or more ("ệ") are kept, as FTS5 keeps them
    for low in (c.casefold(), c.lower()):  # "ς" folds to "σ"; "ß" would fold to two letters
        if len(low) == 1:
            return low
    return c


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def tokens(text: str) -> list[str]:
    """The stemmed, folded words of ``text``, in order.

    >>> tokens("Les Misérables: RUNNING_fast")
    ['le', 'miser', 'run', 'fast']
    """
    words: list[str] = _WORD.findall(_fold(text))
    if not words:
        return []
    # FTS5's porter tokenizer leaves words under 3 or over 64 characters as they are
    stems: list[str] = _stemmer().stemWords(words)
    return [s if 3 <= len(w) <= 64 else w for w, s in zip(words, stems, strict=True)]


class CorpusStats(Protocol):
    """Word statistics of a larger corpus than one index (the SQLite store's whole file)."""

    def shape(self) -> tuple[int, float]:
        """How many texts, and their mean length in words."""
        ...

    def doc_freq(self, term: str) -> int:
        """How many texts hold ``term`` (a query word, folded and stemmed by the corpus)."""
        ...


class TextIndex:
    """BM25 postings of one namespace's texts (one kind), appended in place.

    Not thread-safe: the store calls it under its lock.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._lengths = array("I")
        self._total = 0
        self._slots: dict[str, int] = {}
        self._docs: list[array[int]] = []
        self._counts: list[array[int]] = []
        self._length_cache: np.ndarray[Any, np.dtype[np.float64]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Append ``(id, text)`` pairs (the caller sends each id once)."""
        for node_id, text in items:
            doc = len(self.ids)
            words = tokens(text)
            self.ids.append(node_id)
            self._lengths.append(len(words))
            self._total += len(words)
            for word, n in Counter(words).items():
                slot = self._slots.get(word)
                if slot is None:
                    slot = self._slots[word] = len(self._docs)
                    self._docs.append(array("I"))
                    self._counts.append(array("I"))
                self._docs[slot].append(doc)
                self._counts[slot].append(n)
        self._length_cache = None

    def _doc_lengths(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        if self._length_cache is None:
            self._length_cache = np.array(self._lengths, dtype=np.float64)
        return self._length_cache

    def search(
        self, terms: Sequence[str], k: int, stats: CorpusStats | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` texts best matching any of ``terms``: (id, score), best first.

        ``stats``: the corpus the word statistics come from (how many texts, their mean length,
        how many hold a word); the index's own texts when None."""
        n = len(self.ids)
        if n == 0 or k <= 0:
            return []
        rows, mean = (n, self._total / n) if stats is None else stats.shape()
        lengths = self._doc_lengths()
        norm = K1 * (1.0 - B + B * lengths / (mean or 1.0))
        scores = np.zeros(n)
        hit = False
        for term in terms:
            words = [w for w in tokens(term) if w in self._slots]
            if not words:
                continue
            held = None if stats is None else stats.doc_freq(term)
            for word in words:
                slot = self._slots[word]
                docs = np.frombuffer(self._docs[slot], dtype=np.uint32).astype(np.intp)
                tf = np.frombuffer(self._counts[slot], dtype=np.uint32).astype(np.float64)
                found = len(docs) if held is None else max(held, len(docs))
                idf = math.log((rows - found + 0.5) / (found + 0.5))
                idf = idf if idf > 0 else MIN_IDF
                # grouped as FTS5 groups it, so equal scores are equal to the last bit
                scores[docs] += idf * ((tf * (K1 + 1.0)) / (tf + norm[docs]))
                hit = True
        if not hit:
            return []
        matched = np.flatnonzero(scores > 0)
        if len(matched) > k:
            cut = np.partition(scores[matched], len(matched) - k)[len(matched) - k]
            matched = matched[scores[matched] >= cut]
        order = sorted(matched.tolist(), key=lambda d: (-scores[d], self.ids[d]))[:k]
        return [(self.ids[d], float(scores[d])) for d in order]
