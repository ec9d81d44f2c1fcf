"""A batch meets the rows already stored: what of them it keeps.

An entity stored before keeps its stored name and gains the batch's aliases; a fact stored
before keeps when memory first learned it, and a superseded one stays superseded when restated
(:mod:`graphmem.ingest.temporal` decides that, not a later statement).
"""

from __future__ import annotations

from collections.abc import Mapping

from graphmem.models import Entity, Fact
from graphmem.store.base import WriteBatch


def merge_entities(batch: WriteBatch, known: Mapping[str, Entity]) -> None:
    """Batch entities already stored keep their stored name, and gain its type and aliases."""
    for e in batch.entities:
        old = known.get(e.id)
        if old is not None:
            e.type = e.type or old.type
            e.aliases = sorted(set(old.aliases) | set(e.aliases))
            e.name = old.name


def merge_facts(batch: WriteBatch, known: Mapping[str, Fact]) -> None:
    """Batch facts already stored keep their first times and their end."""
    for f in batch.facts:
        old = known.get(f.id)
        if old is not None:
            f.created_at, f.valid_at = old.created_at, f.valid_at or old.valid_at
            f.invalid_at, f.expired_at = old.invalid_at, old.expired_at
