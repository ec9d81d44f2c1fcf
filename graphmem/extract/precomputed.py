"""Replay an extraction made elsewhere (for example by an LLM) from a ``triples.jsonl`` file.

One JSON object per line::

    {"passage_id": "p0", "entities": ["Paris", "France"],
     "triples": [["Paris", "is capital of", "France"]], "malformed_triples": []}

A passage is matched to its record by ``passage.source`` (the corpus id), else by
``passage.metadata["corpus_id"]``. A passage with no record gets an empty extraction.

>>> ex = PrecomputedExtractor.from_records({"p0": {"triples": [["Paris", "in", "France"]]}})
>>> from graphmem.models import Passage
>>> [out] = ex.extract([Passage(id="x", text="Paris is in France.", source="p0")])
>>> [(f.subject, f.predicate, f.object) for f in out.facts]
[('Paris', 'in', 'France')]
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.ids import normalize_name
from graphmem.models import Passage

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")


@dataclass
class _Record:
    entities: list[str] = field(default_factory=list)
    facts: list[tuple[str, str, str]] = field(default_factory=list)
    repaired: int = 0
    dropped: int = 0


class PrecomputedExtractor:
    """Serves the entities and triples of a ``triples.jsonl`` file, passage by passage.

    The whole file is read and checked when the extractor is built, so a bad line fails before
    anything is written. Triples that are not exactly three non-empty strings are repaired when
    the fix is unambiguous (whitespace; a 4-part triple whose two middle parts form the
    predicate) and dropped otherwise; ``malformed_triples`` entries count as dropped unless
    ``repair_malformed=True``.

    >>> ex = PrecomputedExtractor.from_records({"p1": {"triples": [["A", "is", "part of", "B"]]}})
    >>> ex.stats()["repaired"]
    1
    """

    name = "precomputed"
    version = "1"
    cacheable = False

    def __init__(self, records: Mapping[str, _Record], *, path: str | None = None) -> None:
        self._records = dict(records)
        self.path = path

    # ------------------------------------------------------------------ building

    @classmethod
    def from_file(
        cls, path: str | PathLike[str], *, repair_malformed: bool = False
    ) -> PrecomputedExtractor:
        """Read and validate ``path``; raises :class:`InputError` naming the line and field."""
        where = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path=where) from exc
        records: dict[str, _Record] = {}
        for lineno, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 (byte {exc.start}: {line[exc.start : exc.start + 1]!r})",
                    path=where,
                    line=lineno,
                ) from exc
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc.msg}", path=where, line=lineno) from exc
            pid, record = _parse(obj, where, lineno, repair_malformed)
            if pid in records:
                raise InputError(
                    f"duplicate passage_id {pid!r}", path=where, line=lineno, field="passage_id"
                )
            records[pid] = record
        return cls(records, path=where)

    @classmethod
    def from_records(
        cls,
        records: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
        *,
        repair_malformed: bool = False,
    ) -> PrecomputedExtractor:
        """Build from memory: ``{passage_id: {"entities": [...], "triples": [...]}}`` or a list of
        objects in the file's layout (each with ``passage_id``)."""
        parsed: dict[str, _Record] = {}
        if isinstance(records, Mapping):
            items: Iterable[Mapping[str, Any]] = (
                {**dict(v), "passage_id": k} for k, v in records.items()
            )
        else:
            items = records
        for i, obj in enumerate(items, start=1):
            pid, record = _parse(obj, "<records>", i, repair_malformed)
            parsed[pid] = record
        return cls(parsed, path=None)

    # ------------------------------------------------------------------ use

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._records

    def stats(self) -> dict[str, int]:
        """Totals over the file: passages, entities, facts, repaired and dropped triples."""
        recs = self._records.values()
        return {
            "passages": len(self._records),
            "entities": sum(len(r.entities) for r in recs),
            "facts": sum(len(r.facts) for r in recs),
            "repaired": sum(r.repaired for r in recs),
            "dropped": sum(r.dropped for r in recs),
        }

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        """One :class:`Extraction` per passage, looked up by corpus id."""
        return [self._one(p) for p in passages]

    def _one(self, passage: Passage) -> Extraction:
        key = passage.source
        record = self._records.get(key) if key is not None else None
        if record is None:
            alt = passage.metadata.get("corpus_id")
            if alt is not None:
                key = str(alt)
                record = self._records.get(key)
        if record is None:
            log.debug("no precomputed extraction for passage %s (source %r)", passage.id, key)
            return Extraction()
        names = {normalize_name(n) for n in record.entities}
        entities = [ExtractedEntity(name=n) for n in record.entities]
        for s, _, o in record.facts:
            for n in (s, o):
                if normalize_name(n) not in names:
                    names.add(normalize_name(n))
                    entities.append(ExtractedEntity(name=n))
        return Extraction(
            entities=entities,
            facts=[ExtractedFact(subject=s, predicate=p, object=o) for s, p, o in record.facts],
            repaired=record.repaired,
            dropped=record.dropped,
        )


def _parse(obj: Any, path: str, line: int, repair_malformed: bool) -> tuple[str, _Record]:
    if not isinstance(obj, Mapping):
        raise InputError("expected a JSON object", path=path, line=line)
    pid = obj.get("passage_id")
    if pid is None:
        raise InputError("missing", path=path, line=line, field="passage_id")
    if not isinstance(pid, str | int) or isinstance(pid, bool) or str(pid).strip() == "":
        raise InputError(
            f"must be a non-empty string, got {pid!r}", path=path, line=line, field="passage_id"
        )
    record = _Record()

    entities = obj.get("entities", [])
    if not isinstance(entities, list):
        raise InputError("must be a list", path=path, line=line, field="entities")
    seen: set[str] = set()
    for ent in entities:
        name = _clean(ent) if isinstance(ent, str) else None
        if name and normalize_name(name) and normalize_name(name) not in seen:
            seen.add(normalize_name(name))
            record.entities.append(name)

    for fieldname in ("triples", "malformed_triples"):
        triples = obj.get(fieldname, [])
        if not isinstance(triples, list):
            raise InputError("must be a list", path=path, line=line, field=fieldname)
        for n, triple in enumerate(triples):
            if not isinstance(triple, list):
                raise InputError(
                    f"item {n} is not a list: {triple!r:.60}",
                    path=path,
                    line=line,
                    field=fieldname,
                )
            if fieldname == "malformed_triples" and not repair_malformed:
                record.dropped += 1
                continue
            fixed, changed = repair_triple(triple)
            if fixed is None:
                record.dropped += 1
                continue
            record.repaired += changed
            record.facts.append(fixed)
    return str(pid), record


def repair_triple(triple: Sequence[Any]) -> tuple[tuple[str, str, str] | None, bool]:
    """``(triple, changed)``: a clean (s, p, o), or ``None`` when it cannot be repaired.

    >>> repair_triple(["Adam Wright", "is", "nephew of", "Alan Jackson"])
    (('Adam Wright', 'is nephew of', 'Alan Jackson'), True)
    >>> repair_triple(["Paris", " in ", "France"])
    (('Paris', 'in', 'France'), True)
    >>> repair_triple(["Metlako Falls", "is tall"])
    (None, False)
    """
    parts: list[str] = []
    changed = False
    for item in triple:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            return None, False
        if not isinstance(item, str):
            changed = True  # a number where a string belongs: "1963"
        text = _clean(str(item))
        changed = changed or text != item
        parts.append(text)
    if len(parts) == 4 and all(parts):
        return (parts[0], f"{parts[1]} {parts[2]}", parts[3]), True
    if len(parts) != 3 or not all(parts):
        return None, False
    return (parts[0], parts[1], parts[2]), changed


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
