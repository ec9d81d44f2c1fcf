"""Session summaries (issue 22's consolidation): one memory unit per session of episodes, so a
question about a whole session can find it as one unit.

Offline the summary is extractive: the session's date, then its ``TURNS`` turns that state the
most facts (ties: the longer), in time order, each cut to ``TURN_CHARS``. The unit is a
``Hyperedge`` of kind ``session`` (id from the namespace and session), joined by ``CONNECTS`` to
the entities its turns produced (the ``MAX_MEMBERS`` most frequent) and by ``EVIDENCE`` from
each of its episodes, both at the weight other units' members get, so walks reach it from the
session's turns and entities. A session that has a unit is left as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from graphmem.embed.base import Embedder
from graphmem.ids import ENTITY, FACT, hyperedge_id, is_kind
from graphmem.ingest.hyperedges import HyperSettings, ensure_vectors
from graphmem.models import Edge, Episode, Hyperedge
from graphmem.store.base import Store, WriteBatch, id_pages

__all__ = ["session_units"]

TURNS = 3
TURN_CHARS = 240
MAX_MEMBERS = 30


def _summary(session: str, turns: Sequence[Episode], facts: Counter[str]) -> str:
    chosen = sorted(turns, key=lambda e: (-facts[e.id], -len(e.text), e.time))[:TURNS]
    lines = []
    for ep in sorted(chosen, key=lambda e: e.time):
        text = " ".join(ep.text.split())
        text = text if len(text) <= TURN_CHARS else text[: TURN_CHARS - 1] + "…"
        lines.append(f"{ep.speaker}: {text}" if ep.speaker else text)
    day = min(e.time for e in turns).date().isoformat()
    return f"Session {session} ({day}): " + " ".join(lines)


def session_units(store: Store, embedder: Embedder, namespace: str) -> WriteBatch:
    """A batch with a unit for every session of ``namespace`` that has none yet (see above)."""
    batch = WriteBatch(namespace=namespace)
    sessions: dict[str, list[Episode]] = {}
    for page in id_pages(store, namespace, "episode"):
        for ep in store.get_episodes(namespace, page).values():
            if ep.session:
                sessions.setdefault(ep.session, []).append(ep)
    ids = {s: hyperedge_id(namespace, "session", s) for s in sessions}
    have = store.get_hyperedges(namespace, list(ids.values())) if ids else {}
    weight = HyperSettings().member_weight
    units: list[Hyperedge] = []
    for session, turns in sorted(sessions.items()):
        if ids[session] in have:
            continue
        edges = store.edges_of(namespace, [e.id for e in turns], ["EVIDENCE"])
        mine = {e.id for e in turns}
        facts = Counter(e.src for e in edges if e.src in mine and is_kind(e.dst, FACT))
        ents = Counter(e.dst for e in edges if e.src in mine and is_kind(e.dst, ENTITY))
        members = [m for m, _ in ents.most_common(MAX_MEMBERS)]
        unit = Hyperedge(
            id=ids[session],
            namespace=namespace,
            description=_summary(session, turns, facts),
            kind="session",
            members=members,
        )
        units.append(unit)
        batch.edges.extend(
            Edge(type="CONNECTS", src=unit.id, dst=m, namespace=namespace, weight=weight)
            for m in members
        )
        batch.edges.extend(
            Edge(type="EVIDENCE", src=e.id, dst=unit.id, namespace=namespace, weight=weight)
            for e in turns
        )
    batch.hyperedges = units
    if units:
        ensure_vectors(store, embedder, batch, units)
    return batch
