"""The lexical (BM25) first stage shared by every store: query words and their full-text syntax.

Every store answers :meth:`~graphmem.store.base.Store.text_search` with its own full-text engine
(SQLite FTS5, RediSearch inside FalkorDB, Lucene inside Neo4j). Each engine has a query language
whose special characters (quotes, colons, dashes, parentheses, ``AND``/``OR``...) would turn a
question into a syntax error or an unintended operator. So a question is never passed through:
it is cut into its words here (:func:`query_terms`) and each engine gets the words back as a plain
OR of terms that cannot contain an operator (:func:`fts5_query`, :func:`lucene_query`,
:func:`redisearch_query`), which is also what BM25 ranks: any word may match, rarer words and
more of them score higher.

>>> query_terms('Who is "O\\'Brien": the co-founder of AT&T? (NOT him)')
['Who', 'is', 'O', 'Brien', 'the', 'co', 'founder', 'of', 'AT', 'T', 'NOT', 'him']
>>> fts5_query(["co", "founder"])
'"co" OR "founder"'
>>> lucene_query(["NOT", "AND", "café"])
'not and café'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from graphmem.errors import InputError

#: what a full-text search looks in: passage text (the default) or episode text
TextKind = Literal["passage", "episode"]
#: the node label of each kind a Cypher store's full-text index covers
TEXT_LABELS: dict[str, str] = {"passage": "Passage", "episode": "Episode"}

#: the most words of one query sent to an engine (Lucene refuses more than 1024 clauses)
MAX_TERMS = 256
#: the longest query accepted, in characters
MAX_QUERY_CHARS = 20_000

# Letters and digits of any script, with the marks that combine with them. Underscore, the one
# other character of \w, separates words here as it does in FTS5's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+")


def check_text_query(query: object, k: object) -> None:
    """Refuse a query that is not text or too long, and a ``k`` that is not a positive int."""
    if not isinstance(query, str):
        raise InputError(f"must be a str, got {type(query).__name__}", field="query")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(
            f"is {len(query)} characters long; the most is {MAX_QUERY_CHARS}", field="query"
        )
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise InputError(f"must be an int >= 0, got {k!r}", field="k")


def text_table(kind: object) -> str:
    """The embedded store's FTS5 table of ``kind`` (:class:`InputError` for another kind).

    >>> text_table("episode")
    'episodes_fts'
    """
    if kind not in TEXT_LABELS:
        raise InputError(f"must be one of {sorted(TEXT_LABELS)}, got {kind!r}", field="kind")
    return f"{kind}s_fts"


def query_terms(query: str, limit: int = MAX_TERMS) -> list[str]:
    """The distinct words of ``query`` in order (NFC, case kept), at most ``limit``."""
    text = unicodedata.normalize("NFC", query)
    # A lone surrogate is not a character any engine can hold: it separates words.
    text = text.encode("utf-8", "replace").decode("utf-8")
    first: dict[str, str] = {}
    for word in _WORD.findall(text):
        first.setdefault(word.casefold(), word)
        if len(first) == limit:
            break
    return list(first.values())


def fts5_query(terms: list[str]) -> str:
    """SQLite FTS5: each word a quoted string (words never contain a quote), OR-ed."""
    return " OR ".join(f'"{t}"' for t in terms)


def lucene_query(terms: list[str]) -> str:
    """Lucene (Neo4j): the words, space-separated (the default operator is OR). Lowercased so that
    ``AND``/``OR``/``NOT`` are words, not operators; the analyzer lowercases the text anyway."""
    return " ".join(t.lower() for t in terms)


def redisearch_query(terms: list[str]) -> str:
    """RediSearch (FalkorDB): the words joined by ``|`` (its OR)."""
    return "|".join(terms)
