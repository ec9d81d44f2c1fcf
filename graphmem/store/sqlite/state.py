"""What the SQLite store holds in memory per namespace, and how a committed write updates it.

Everything here is derived from the file: dropped when another process commits, rebuilt lazily
by the next read, and fed each of this process's writes so a search after a write does not
rebuild it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from graphmem.models import Episode
from graphmem.store.base import FactTable, NodeKind
from graphmem.store.graph import GraphProjection, ppr_edges
from graphmem.store.sqlite.load import GRAPH_KINDS
from graphmem.store.sqlite.vectors import VectorIndex
from graphmem.store.sqlite.write import WriteDelta
from graphmem.store.textindex import TextIndex

#: parsed episodes kept per namespace; past it the cache starts again empty
EPISODE_CACHE = 50_000
#: namespaces whose structures a store keeps in memory at once, by default
MEMORY_NAMESPACES = 64


@dataclass
class NamespaceState:
    """One namespace's in-memory structures (each None or empty until a read needs it)."""

    projection: GraphProjection | None = None
    vectors: dict[NodeKind, VectorIndex] = field(default_factory=dict)
    #: every fact as columns (read by as-of views and change checks), dropped on any write
    facts: FactTable | None = None
    #: BM25 over passage and episode texts, appended on write (None: searched by FTS5's match)
    texts: dict[NodeKind, TextIndex | None] = field(default_factory=dict)
    #: episodes already parsed from their JSON (an episode's search reads ~600 of them)
    episodes: dict[str, Episode] = field(default_factory=dict)


class NamespaceStates:
    """The states of the ``limit`` namespaces used last; an older one is dropped (its next read
    builds it again from the file), so a store serving many users holds a bounded set."""

    def __init__(self, limit: int = MEMORY_NAMESPACES) -> None:
        self.limit = limit
        self._by_ns: OrderedDict[str, NamespaceState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_ns)

    def __getitem__(self, namespace: str) -> NamespaceState:
        return self._by_ns[namespace]

    def __contains__(self, namespace: object) -> bool:
        return namespace in self._by_ns

    def get(self, namespace: str) -> NamespaceState | None:
        """The namespace's state if held (a write feeds it; it does not count as a use)."""
        return self._by_ns.get(namespace)

    def of(self, namespace: str) -> NamespaceState:
        """The namespace's state, made if needed, now the most recently used."""
        state = self._by_ns.get(namespace)
        if state is None:
            state = self._by_ns[namespace] = NamespaceState()
        self._by_ns.move_to_end(namespace)
        while len(self._by_ns) > self.limit:
            self._by_ns.popitem(last=False)
        return state

    def pop(self, namespace: str) -> None:
        """Forget ``namespace``'s structures: rebuilt from the file when next read."""
        self._by_ns.pop(namespace, None)

    def clear(self) -> None:
        """Forget every namespace's structures (the file changed under this store)."""
        self._by_ns.clear()


def apply_delta(
    state: NamespaceState, delta: WriteDelta, *, model_changed: bool, text_limit: int
) -> None:
    """Feed a committed batch to ``state`` (the store's lock held); postings grown past
    ``text_limit`` texts are dropped (the next search goes to FTS5's match)."""
    state.facts = None
    for episode_id in delta.episode_ids:
        state.episodes.pop(episode_id, None)
    if state.projection is not None:
        if delta.graph_stale:
            state.projection = None
        else:
            for kind in GRAPH_KINDS:
                state.projection.add_nodes(i for i, _ in delta.new_nodes.get(kind, []))
            state.projection.add_edges(ppr_edges(delta.new_facts, delta.new_edges))
    for kind, text_index in list(state.texts.items()):
        if kind in delta.stale_texts:
            del state.texts[kind]
        elif text_index is not None:
            text_index.add(delta.new_texts.get(kind, ()))
            if len(text_index) > text_limit:
                del state.texts[kind]
    for kind, index in list(state.vectors.items()):
        if (
            model_changed
            or kind in delta.stale_vectors
            or delta.new_vector_keys & index.missing_keys
        ):
            del state.vectors[kind]  # reloaded from the file on the next search
            continue
        ids, rows = [], []
        for node_id, key in delta.new_nodes.get(kind, []):
            vec = delta.vectors.get(key)
            if vec is None:
                index.missing_keys.add(key)
            else:
                ids.append(node_id)
                rows.append(vec)
        if ids:
            index.append(ids, np.stack(rows))
