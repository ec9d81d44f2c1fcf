"""A note joining entities (``Memory.add_note``): one ``note`` hyperedge, merged with a stored
unit over the same members (moved out of ``memory.py`` to keep the facade thin)."""

from __future__ import annotations

from collections.abc import Iterable

from graphmem.errors import InputError
from graphmem.ids import ENTITY, entity_id, is_kind, normalize_name
from graphmem.ingest.hyperedges import HyperSettings, add_units, note_unit
from graphmem.ingest.pipeline import Ingestor
from graphmem.models import Entity, Hyperedge, IngestReport, Passage
from graphmem.store.base import WriteBatch


def add_note(
    ingestor: Ingestor,
    settings: HyperSettings,
    ns: str,
    text: str,
    members: Iterable[str] | None,
) -> Hyperedge:
    """Store ``text`` as a note over ``members`` (names or ids; default: the entities the
    ingestor's extractor finds in it); return the stored unit (merged, if it merged)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("the note is empty", field="text")
    names = list(members) if members is not None else _names(ingestor, text)
    batch = WriteBatch(namespace=ns)
    ids: list[str] = []
    for name in names:
        if is_kind(name, ENTITY):
            ids.append(name)
            continue
        norm = normalize_name(name)
        if not norm:
            continue
        eid = entity_id(ns, name)
        ids.append(eid)
        batch.entities.append(Entity(id=eid, namespace=ns, name=name.strip(), normalized=norm))
    unit = note_unit(ns, text, ids)
    add_units(ingestor.store, ingestor.embedder, batch, [(unit, None)], settings)
    stored = next(
        (h for h in batch.hyperedges if unit.id == h.id or set(ids) <= set(h.members)), unit
    )
    ingestor.commit(ns, batch, IngestReport())
    return stored


def _names(ingestor: Ingestor, text: str) -> list[str]:
    if ingestor.extractor is None:
        return []
    [ex] = ingestor.extractor.extract([Passage(id="note", text=text)])
    return [e.name for e in ex.entities]
