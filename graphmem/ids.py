"""Stable ids and name normalization. Pure functions, no I/O.

Ids are content hashes scoped by namespace, so the same text ingested twice in one namespace is the
same node, and two namespaces never share a node.

>>> passage_id("default", "Paris is in France.") == passage_id("default", "Paris is in France.")
True
>>> normalize_name("  The  Beatles! ")
'the beatles'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


def normalize_name(name: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form of a name (used to merge entities)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def normalize_predicate(predicate: str) -> str:
    """Predicates compare like names."""
    return normalize_name(predicate)


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is a valid namespace name, else raise ``ValueError``."""
    if not _NAMESPACE.match(namespace):
        raise ValueError(
            f"invalid namespace {namespace!r}: use 1-128 characters from A-Z a-z 0-9 _ . : @ -"
        )
    return namespace


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def text_hash(text: str) -> str:
    """Hash of a text alone (embedding and extraction caches are keyed by it)."""
    return _digest(text)


def passage_id(namespace: str, text: str) -> str:
    return "p:" + _digest(namespace, text)


def entity_id(namespace: str, name: str) -> str:
    return "e:" + _digest(namespace, normalize_name(name))


def fact_id(namespace: str, subject: str, predicate: str, obj: str) -> str:
    return "f:" + _digest(
        namespace, normalize_name(subject), normalize_predicate(predicate), normalize_name(obj)
    )


def event_id(namespace: str, description: str, time: str | None) -> str:
    return "v:" + _digest(namespace, description, time or "")


def hyperedge_id(namespace: str, kind: str, key: str) -> str:
    return "h:" + _digest(namespace, kind, key)


def episode_id(
    namespace: str, session: str | None, time: str, speaker: str | None, text: str
) -> str:
    return "ep:" + _digest(namespace, session or "", time, speaker or "", text)
