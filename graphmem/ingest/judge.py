"""An LLM's judgment on candidate conflicts: Mem0's update decision, never a delete (issue 22).

Offline, a fact takes a slot when its relation is near enough a seed exemplar
(:mod:`graphmem.ingest.slots`). With an LLM extractor, a person's fact whose relation comes near
a slot without reaching the threshold ("started a new gig at": employer, cosine 0.65), while the
person holds a fact of that slot, is a *candidate conflict*: the LLM decides UPDATE (the newer
fact gives a new value of the slot), ADD (both can be true) or NOOP (the same thing again).

- UPDATE gives the newer fact the slot, so the functional rule (:mod:`graphmem.ingest.temporal`)
  ends the held fact at the newer one's time and links it (``superseded_by``): nothing is deleted,
  and ``as_of`` still finds the held fact.
- ADD, NOOP and a failed call leave both facts holding.
- At most ``limit`` calls per batch; the extractor caches decisions by their texts, and a fact a
  judge gave a slot keeps it on a re-ingest without a new call.

:class:`graphmem.ingest.temporal.TemporalHook` runs it when ``Memory``'s extractor has a
``judge_update`` method (:meth:`graphmem.extract.llm.LLMExtractor.judge_update`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from graphmem.ingest.slots import SlotKey, SlotMatcher
from graphmem.models import Fact
from graphmem.store.base import Store, WriteBatch
from graphmem.validity import utc

__all__ = ["Judge", "judged_slots"]

log = logging.getLogger(__name__)
_EARLIEST = datetime.min.replace(tzinfo=UTC)

#: (held fact's text, newer fact's text, slot name) -> "UPDATE" | "ADD" | "NOOP" | None
Judge = Callable[[str, str, str], "str | None"]


def judged_slots(
    store: Store,
    batch: WriteBatch,
    matcher: SlotMatcher,
    people: Collection[str],
    classify: Callable[[Fact], SlotKey | None],
    judge: Judge,
    *,
    low: float,
    limit: int,
) -> dict[str, SlotKey]:
    """The slots a judge gives ``batch``'s facts (by fact id); see the module docstring."""
    todo: list[tuple[Fact, str]] = []
    for f in batch.facts:
        if f.subject in people and classify(f) is None:
            name = matcher.candidate(f, low)
            if name:
                todo.append((f, name))
    if not todo:
        return {}
    ns = batch.namespace
    out: dict[str, SlotKey] = {}
    stored = store.get_facts(ns, [f.id for f, _ in todo])
    held_of: dict[str, list[Fact]] = {}
    for h in store.facts_between(ns, sorted({f.subject for f, _ in todo})):
        if h.invalid_at is None and h.expired_at is None:
            held_of.setdefault(h.subject, []).append(h)
    asked = skipped = 0
    for f, name in todo:
        before = stored.get(f.id)
        if before is not None and before.slot == name:
            out[f.id] = (name, "subject", None)  # judged on an earlier ingest
            continue
        held = [
            h
            for h in held_of.get(f.subject, [])
            if h.id != f.id and (cls := classify(h)) is not None and cls[0] == name
        ]
        if not held:
            continue
        if asked >= limit:
            skipped += 1
            continue
        asked += 1
        newest = max(held, key=lambda h: (utc(h.valid_at) if h.valid_at else _EARLIEST, h.id))
        if judge(newest.text, f.text, name) == "UPDATE":
            out[f.id] = (name, "subject", None)
    if skipped:
        log.info("update judge: %d candidate conflicts left unjudged (limit %d)", skipped, limit)
    return out
