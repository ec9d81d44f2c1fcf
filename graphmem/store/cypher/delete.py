"""Deleting from a Cypher store: a source, with the embedded store's provenance rules, or a namespace.

A fact, event or hyperedge stays while some passage STATES it or some episode gives EVIDENCE for
it; an entity stays while a passage MENTIONS it, an episode gives EVIDENCE for it, a remaining
fact has it as subject or object, or a remaining hyperedge or event lists it. Every relationship
touching a removed node goes with it (``DETACH DELETE``), and so do removed facts' ``RELATES``.

The work reads what to delete, then deletes it (one query on FalkorDB, one transaction on Neo4j),
and with it, as the embedded store does, the namespace's extraction-cache rows of the deleted
passages and episodes (the whole namespace's, for a namespace) and the cached vectors that no
stored node of any namespace uses any more (:func:`purge_caches`). Stubs left without any
relationship are swept afterwards, in a second small unit of work: a stub is invisible to every
read, so a sweep that does not happen costs only space.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphmem.models import DeleteReport, Passage
from graphmem.store.base import NODE_KINDS, cache_prefix, count_fields
from graphmem.store.cypher.dialect import Dialect, Transaction

_PROVENANCE = {"STATES", "EVIDENCE"}
_MEMBERSHIP = {"CONNECTS", "INVOLVES"}


def purge_caches(
    dialect: Dialect, tx: Transaction, prefixes: Iterable[str], keys: Iterable[str]
) -> None:
    """Delete the extraction-cache rows under ``prefixes`` and the vectors of ``keys`` that no
    stored node uses once this unit of work's deletions are done (written after them)."""
    tx.write(dialect.statement("purge_extractions"), {"prefixes": sorted(set(prefixes))})
    keys = sorted(set(keys))
    if keys:
        models = sorted({str(r[0]) for r in tx.read(dialect.statement("list_models"), {})})
        tx.write(dialect.statement("purge_vectors"), {"keys": keys, "models": models})


def _embed_keys(dialect: Dialect, tx: Transaction, ns: str, ids: Iterable[str]) -> set[str]:
    stmt = dialect.statement("embed_keys_of")
    return {str(r[0]) for r in tx.read(stmt, {"ns": ns, "ids": sorted(set(ids))})}


class SourceDeleter:
    """A unit of work deleting one source of one namespace; returns what it deleted."""

    def __init__(self, dialect: Dialect, namespace: str, source: str) -> None:
        self.dialect = dialect
        self.ns = namespace
        self.source = source
        self.swept: set[str] = set()

    def _read(self, tx: Transaction, name: str, **params: object) -> list[tuple[object, ...]]:
        return tx.read(self.dialect.statement(name), {"ns": self.ns, **params})

    def _keep_supplied(self, tx: Transaction, kept: dict[str, list[str]]) -> None:
        """Passages another source still supplies lose only this one (display source, JSON)."""
        stmt = self.dialect.statement("get_nodes", KIND="Passage")
        rows = []
        for row in tx.read(stmt, {"ns": self.ns, "ids": sorted(kept)}):
            node_id, data = str(row[0]), row[1]
            passage = Passage.model_validate_json(data)
            left = kept[node_id]
            passage.source = passage.source if passage.source in left else left[0]
            rows.append(
                {
                    "id": node_id,
                    "sources": left,
                    "source": passage.source,
                    "data": passage.model_dump_json(),
                }
            )
        if rows:
            tx.write(self.dialect.statement("remove_passage_source"), {"ns": self.ns, "rows": rows})

    def roots(self, tx: Transaction) -> dict[str, str]:
        """The ids to delete, with their kind (``passage`` or ``episode``). Passages another
        source still supplies are not among them: they go to ``self.kept`` (id -> sources left)."""
        roots: dict[str, str] = {}
        self.kept: dict[str, list[str]] = {}
        for i, k, srcs in self._read(tx, "source_roots", source=self.source):
            left = [str(s) for s in srcs or [] if s != self.source]  # type: ignore[attr-defined]
            if k == "passage" and left:
                self.kept[str(i)] = left
            else:
                roots[str(i)] = str(k)
        return roots

    def __call__(self, tx: Transaction) -> DeleteReport:
        roots = self.roots(tx)
        if self.kept:
            self._keep_supplied(tx, self.kept)
        if not roots:
            return DeleteReport()
        passages = {i for i, k in roots.items() if k == "passage"}
        episodes = {i for i, k in roots.items() if k == "episode"}
        stated: set[str] = set()
        touched: set[str] = set()
        around: set[str] = set()
        for _, etype, dst in self._read(tx, "out_edges", ids=sorted(roots)):
            around.add(str(dst))
            if etype in _PROVENANCE:
                stated.add(str(dst))
            if etype in ("MENTIONS", "EVIDENCE"):
                touched.add(str(dst))

        still = {
            str(r[0])
            for r in self._read(tx, "still_stated", ids=sorted(stated), gone=sorted(roots))
        }
        dead_facts: set[str] = set()
        dead_events: set[str] = set()
        dead_hyper: set[str] = set()
        fact_ends: list[str] = []
        for node_id, kind, subject, obj, members in self._read(
            tx, "lookup_nodes", ids=sorted(stated - still)
        ):
            if kind == "fact":
                dead_facts.add(str(node_id))
                fact_ends += [str(subject), str(obj)]
            elif kind == "event":
                dead_events.add(str(node_id))
                touched.update(str(m) for m in members or [])  # type: ignore[attr-defined]
            elif kind == "hyperedge":
                dead_hyper.add(str(node_id))
                touched.update(str(m) for m in members or [])  # type: ignore[attr-defined]
        touched.update(fact_ends)
        for _, etype, dst in self._read(tx, "out_edges", ids=sorted(dead_events | dead_hyper)):
            around.add(str(dst))
            if etype in _MEMBERSHIP:
                touched.add(str(dst))

        gone = roots.keys() | dead_facts | dead_events | dead_hyper
        candidates = {
            str(i)
            for i, k, *_ in self._read(tx, "lookup_nodes", ids=sorted(touched))
            if k == "entity"
        }
        keep = {
            str(r[0])
            for r in self._read(tx, "entities_kept", ids=sorted(candidates), gone=sorted(gone))
        }
        if candidates - keep:
            keep |= {
                str(r[0])
                for r in self._read(
                    tx, "members_kept", ids=sorted(candidates - keep), gone=sorted(gone)
                )
            }
        dead_entities = candidates - keep

        if dead_facts:
            tx.write(
                self.dialect.statement("delete_fact_rels"),
                {"ns": self.ns, "ids": sorted(dead_facts)},
            )
        doomed = sorted(gone | dead_entities)
        keys = _embed_keys(self.dialect, tx, self.ns, doomed)
        tx.write(self.dialect.statement("delete_nodes"), {"ns": self.ns, "ids": doomed})
        purge_caches(self.dialect, tx, [cache_prefix(self.ns, r) for r in roots], keys)
        self.swept = (around | touched) - set(doomed)
        return DeleteReport(
            passages=len(passages),
            episodes=len(episodes),
            facts=len(dead_facts),
            events=len(dead_events),
            hyperedges=len(dead_hyper),
            entities=len(dead_entities),
        )

    def sweep_stubs(self) -> None:
        """Delete the stubs the deletion left without relationships."""
        if not self.swept:
            return
        ids = sorted(self.swept)

        def work(tx: Transaction) -> None:
            tx.write(self.dialect.statement("delete_stubs"), {"ns": self.ns, "ids": ids})

        self.dialect.transaction(work, what=f"sweeping stubs of namespace {self.ns!r}")


class StaleDeleter(SourceDeleter):
    """Deletes a source's passages that are not in ``keep`` (a changed file's old chunks)."""

    def __init__(self, dialect: Dialect, namespace: str, source: str, keep: set[str]) -> None:
        super().__init__(dialect, namespace, source)
        self.keep = keep

    def roots(self, tx: Transaction) -> dict[str, str]:
        found = super().roots(tx)
        # chunks the new version still has keep this source too
        self.kept = {i: left for i, left in self.kept.items() if i not in self.keep}
        return {i: k for i, k in found.items() if k == "passage" and i not in self.keep}


class NamespaceDeleter:
    """A unit of work deleting every node and edge of one namespace; returns what it deleted."""

    def __init__(self, dialect: Dialect, namespace: str) -> None:
        self.dialect = dialect
        self.ns = namespace

    def __call__(self, tx: Transaction) -> DeleteReport:
        counts = {kind: 0 for kind in NODE_KINDS}
        for kind, n, _ in tx.read(self.dialect.statement("count_nodes"), {"ns": self.ns}):
            if kind in counts:
                counts[kind] = int(n)
        keys = {
            str(r[0])
            for r in tx.read(self.dialect.statement("namespace_embed_keys"), {"ns": self.ns})
        }
        tx.write(self.dialect.statement("delete_namespace"), {"ns": self.ns})
        tx.write(self.dialect.statement("delete_namespace_record"), {"ns": self.ns})
        tx.write(self.dialect.statement("delete_lifecycle_events"), {"ns": self.ns})
        tx.write(self.dialect.statement("delete_lifecycle_states"), {"ns": self.ns})
        purge_caches(self.dialect, tx, [cache_prefix(self.ns)], keys)
        return DeleteReport(
            **count_fields(counts),
        )
