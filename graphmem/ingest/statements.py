"""Facts of a slot stated in the first person, read from turns the extractor leaves bare.

The offline extractor keeps nouns as objects, so "I'm vegetarian", "I went paleo", "I got promoted
to nurse" and "I got engaged to Robin" often give no fact, and an old diet or partner would then
never end. This reader finds such statements in a speaker's turn, for the seed's values
(``slots.json``: diets, statuses, occupations) and for partners, and adds the facts ("Dana is
vegetarian", "Dana is engaged to Robin") with the turn as their evidence, before the slot rule
runs (:class:`graphmem.ingest.temporal.TemporalHook`). Past and negated statements ("I was
vegan", "I'm not vegan") are not read. Speakers named like a bot ("assistant") are skipped.

>>> [(v, p) for v, p in read_statements("Dana: These days I'm fully vegan.", load_seed())]
[('vegan', 'is')]
>>> [(v, p) for v, p in read_statements("I got engaged to Robin!", load_seed())]
[('Robin', 'is engaged to')]
>>> read_statements("I have a vegan friend, I was vegetarian.", load_seed())
[]
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from graphmem.ids import entity_id, fact_id, normalize_name
from graphmem.ingest.hyperedges import ensure_vectors
from graphmem.ingest.slots import SlotSeed, load_seed
from graphmem.models import Edge, Entity, Fact
from graphmem.store.base import Store, WriteBatch

if TYPE_CHECKING:
    from graphmem.embed.base import Embedder

_AUX = r"(?:'m|’m|\s+am|'ve been|’ve been|\s+have been)?"
_FILL = (
    r"(?:(?:now|recently|just|finally|also|officially|fully|strictly|totally|completely|a|an)\s+)*"
)
_VERB = (
    r"(?:(?:went|gone|go|became|become|switched to|turned|got promoted to|been promoted to|"
    r"was promoted to|work as|started working as|'ve gone|have gone|'ve become|have become)\s+)?"
)
_PARTNER = re.compile(
    r"\bI(?:'m|’m|\s+am|'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+|now\s+)*"
    r"(?P<verb>got engaged to|got married to|married|started dating|started seeing|dating|seeing|"
    r"going out with|engaged to|married to)\s+(?P<name>[A-Z][a-z]+)\b"
)
_PARTNER_PREDICATE = {
    "got engaged to": "is engaged to",
    "engaged to": "is engaged to",
    "got married to": "is married to",
    "married to": "is married to",
    "married": "is married to",
}
_BOTS = frozenset(("assistant", "system", "bot", "ai"))


_PATTERNS: dict[int, re.Pattern[str]] = {}


def _value_pattern(seed: SlotSeed) -> re.Pattern[str]:
    found = _PATTERNS.get(id(seed))
    if found is not None:
        return found
    values = sorted(seed.values, key=len, reverse=True)
    alts = "|".join(re.escape(v) for v in values)
    found = re.compile(
        rf"\bI{_AUX}\s+{_FILL}{_VERB}{_FILL}(?P<value>{alts})(?:\s+diet)?\b", re.IGNORECASE
    )
    _PATTERNS[id(seed)] = found
    return found


def read_statements(text: str, seed: SlotSeed) -> list[tuple[str, str]]:
    """(object, predicate) of each first-person slot statement in ``text``."""
    out: list[tuple[str, str]] = []
    for m in _value_pattern(seed).finditer(text):
        out.append((normalize_name(m.group("value")), "is"))
    for m in _PARTNER.finditer(text):
        verb = m.group("verb")
        if m.group("name") != "I":
            out.append((m.group("name"), _PARTNER_PREDICATE.get(verb, "is dating")))
    return list(dict.fromkeys(out))


def add_statements(store: Store, embedder: Embedder, batch: WriteBatch) -> int:
    """Add to ``batch`` the facts its episodes state in the first person; returns facts added."""
    seed = load_seed()
    ns = batch.namespace
    entities = {e.id: e for e in batch.entities}
    facts = {f.id for f in batch.facts}
    new_nodes: list[Entity | Fact] = []
    for ep in batch.episodes:
        speaker = (ep.speaker or "").strip()
        if not speaker or speaker.lower() in _BOTS:
            continue
        for obj, pred in read_statements(ep.text, seed):
            fid = fact_id(ns, speaker, pred, obj)
            if fid in facts:
                continue
            facts.add(fid)
            for name in (speaker, obj):
                eid = entity_id(ns, name)
                if eid not in entities:
                    kind = "PERSON" if name == speaker else None
                    entities[eid] = Entity(
                        id=eid, namespace=ns, name=name, normalized=normalize_name(name), type=kind
                    )
                    new_nodes.append(entities[eid])
            fact = Fact(
                id=fid,
                namespace=ns,
                subject=entity_id(ns, speaker),
                predicate=pred,
                object=entity_id(ns, obj),
                text=f"{speaker} {pred} {obj}",
            )
            batch.facts.append(fact)
            new_nodes.append(fact)
            batch.edges.append(Edge(type="EVIDENCE", src=ep.id, dst=fid, namespace=ns))
            batch.edges.append(
                Edge(type="EVIDENCE", src=ep.id, dst=entity_id(ns, obj), namespace=ns)
            )
    added = [n for n in new_nodes if isinstance(n, Fact)]
    known = store.get_facts(ns, [f.id for f in added]) if added else {}
    for f in added:  # a restatement: keep what the stored row knows (as the pipeline merges)
        was = known.get(f.id)
        if was is not None:
            f.created_at, f.valid_at, f.invalid_at = was.created_at, was.valid_at, was.invalid_at
            f.expired_at, f.superseded_by, f.slot = was.expired_at, was.superseded_by, was.slot
    if new_nodes:
        batch.entities = list(entities.values())
        # cached vectors too: the pipeline reads new entities' vectors from the batch
        batch.vectors.update(ensure_vectors(store, embedder, batch, new_nodes))
    return len(added)
