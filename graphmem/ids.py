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
from collections.abc import Iterable

#: the id prefix of each node kind: every node id is ``<prefix><hash>``
PASSAGE = "p:"
ENTITY = "e:"
FACT = "f:"
EVENT = "v:"
HYPEREDGE = "h:"
EPISODE = "ep:"
#: id prefix -> kind name, as results and the API name them
KINDS: dict[str, str] = {
    PASSAGE: "passage",
    ENTITY: "entity",
    FACT: "fact",
    EVENT: "event",
    HYPEREDGE: "hyperedge",
    EPISODE: "episode",
}

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
    return PASSAGE + _digest(namespace, text)


def entity_id(namespace: str, name: str) -> str:
    return ENTITY + _digest(namespace, normalize_name(name))


def fact_id(namespace: str, subject: str, predicate: str, obj: str) -> str:
    return FACT + _digest(
        namespace, normalize_name(subject), normalize_predicate(predicate), normalize_name(obj)
    )


def event_id(namespace: str, description: str, time: str | None) -> str:
    return EVENT + _digest(namespace, description, time or "")


def hyperedge_id(namespace: str, kind: str, key: str) -> str:
    return HYPEREDGE + _digest(namespace, kind, key)


def episode_id(
    namespace: str, session: str | None, time: str, speaker: str | None, text: str
) -> str:
    return EPISODE + _digest(namespace, session or "", time, speaker or "", text)


def node_kind(node_id: str) -> str:
    """The kind of node an id names, from its prefix (``"node"`` when unknown).

    >>> node_kind(entity_id("default", "Ada")), node_kind("ep:1"), node_kind("x")
    ('entity', 'episode', 'node')
    """
    head, sep, _ = node_id.partition(":")
    return KINDS.get(head + sep, "node")


def is_kind(node_id: str, prefix: str) -> bool:
    """Whether ``node_id`` is of the kind whose prefix is ``prefix`` (e.g. :data:`ENTITY`).

    >>> is_kind("e:12", ENTITY), is_kind("ep:12", ENTITY)
    (True, False)
    """
    return node_id.startswith(prefix)


def of_kind(ids: Iterable[str], prefix: str) -> list[str]:
    """The ids among ``ids`` of the kind ``prefix``, in their order.

    >>> of_kind(["e:1", "p:2", "e:3"], ENTITY)
    ['e:1', 'e:3']
    """
    return [i for i in ids if i.startswith(prefix)]
