"""Two processes ingest one file into one SQLite store at the same time (issue 12 §4).

Both compute the same batch from the same empty store and meet at a barrier (an ingest hook)
before either writes, so each believes every passage, entity and SYNONYM pair is new. The store
must keep one copy of each (undirected edges stored ``src < dst``) and the two reports together
must count each once: a process counts what it actually wrote.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graphmem.extract.base import ExtractedEntity, ExtractedFact, Extraction
from graphmem.models import Passage

PAIRS = 20
DIM = 64


def _unit(seed_text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).normal(size=DIM)
    return v / np.linalg.norm(v)


class NameEmbedder:
    """ "Person7" and "Person7 Smith" embed almost alike (a SYNONYM pair); all else apart."""

    name, dim = "pair-embedder", DIM

    def embed(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        rows = []
        for text in texts:
            head = text.split()[0]
            v = _unit(head) + (0.05 * _unit(text) if head != text else 0)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32)


class PairExtractor:
    name, version, cacheable = "pairs", "1", False

    def extract(self, passages: Sequence[Passage]) -> list[Extraction]:
        out = []
        for p in passages:
            a, b = p.text.split(" met ")[0], p.text.split(" met ")[1].rstrip(".")
            out.append(
                Extraction(
                    entities=[ExtractedEntity(name=a), ExtractedEntity(name=b)],
                    facts=[ExtractedFact(subject=a, predicate="met", object=b)],
                )
            )
        return out


def child(db: str, barrier: str, me: str) -> None:
    from graphmem.ingest.pipeline import Ingestor
    from graphmem.models import Document
    from graphmem.store.sqlite import SQLiteStore

    def wait_for_the_other(*_: object) -> None:
        Path(barrier, me).touch()
        deadline = time.monotonic() + 60
        while len(list(Path(barrier).iterdir())) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the other process never reached the write")
            time.sleep(0.01)

    docs = [
        Document(text=f"Person{i} met Person{i} Smith.", source="people.txt") for i in range(PAIRS)
    ]
    store = SQLiteStore(db)
    ingestor = Ingestor(store, NameEmbedder(), PairExtractor(), hooks=[wait_for_the_other])  # type: ignore[arg-type, list-item]
    report = ingestor.ingest("default", docs)
    store.close()
    print(json.dumps(report.model_dump(mode="json")))


def test_two_processes_ingesting_one_file_store_and_count_everything_once(
    tmp_path: Path,
) -> None:
    db, barrier = tmp_path / "shared.db", tmp_path / "barrier"
    barrier.mkdir()
    from graphmem.store.sqlite import SQLiteStore

    SQLiteStore(db).close()  # the schema exists before the race
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from test_concurrent_ingest import child; child(*sys.argv[2:])"
    )
    here = str(Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, here, str(db), str(barrier), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    assert sum(r["passages_added"] for r in reports) == PAIRS
    assert sum(r["entities_added"] for r in reports) == 2 * PAIRS
    assert sum(r["facts_added"] for r in reports) == PAIRS
    assert sum(r["synonym_edges"] for r in reports) == PAIRS

    with SQLiteStore(db) as store:
        stats = store.stats("default")
        assert (stats.passages, stats.entities, stats.facts) == (PAIRS, 2 * PAIRS, PAIRS)
        ids = store.list_ids("default", "entity")
        synonyms = {(e.src, e.dst) for e in store.edges_of("default", ids, ["SYNONYM"])}
    assert len(synonyms) == PAIRS
    assert all(src < dst for src, dst in synonyms)
